import Foundation
import Logging
import NIOCore
import NIOPosix
import PortcullisCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The shared store (SPEC §8): several gateway instances on one PostgreSQL. Changes that other
/// instances must apply (revocations, roles, mappings, memberships, settings, greenlists,
/// tokens) are announced with `NOTIFY` inside the transaction that makes them, so they go out
/// exactly when they commit; every instance `LISTEN`s on a connection of its own and
/// resubscribes (and asks for a resynchronisation) after losing it.
///
/// Run it as a service (``run()``) before using it: it runs the connection pool and the
/// listener.
public final class PostgresStore: Service, StoreChangeFeed, Sendable {
    let client: PostgresClient
    public let url: PostgresURL
    let logger: Logger
    /// Told how long each operation took (the store latency metric).
    let observer: (any StoreOperationObserver)?
    private let group: any EventLoopGroup
    private let subscribers = Mutex<[UUID: AsyncStream<AnnouncedChange>.Continuation]>([:])
    /// Whether the listening connection is up (for tests and readiness).
    private let listening = Atomic<Bool>(false)
    /// Opens when ``run()`` starts the pool; every query waits for it.
    private let poolStarted = PoolStartGate()
    /// `identity.groups.source`: which memberships count for effective roles.
    let membershipPolicy = Mutex<GroupSourcePolicy>(.both)
    static let channel = "portcullis_changes"
    /// Serialises audited writes (the hash chain) and role decisions (the last-holder rule).
    static let writeLock: Int64 = 0x706F_7274_6375_6C6C

    public init(
        url: PostgresURL, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        observer: (any StoreOperationObserver)? = nil
    ) {
        self.url = url
        self.logger = logger
        self.observer = observer
        self.group = group
        client = PostgresClient(configuration: url.clientConfiguration, eventLoopGroup: group, backgroundLogger: logger)
    }

    public var isListening: Bool { listening.load(ordering: .acquiring) }

    /// Runs the connection pool and the change listener until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                // `PostgresClient.run()` marks the pool running in its first statement, on this
                // task, with no suspension between here and there.
                self.poolStarted.open()
                await self.client.run()
            }
            group.addTask { await self.listen() }
        }
    }

    /// Creates or upgrades the schema. Safe to run from several instances at once.
    public func migrate() async throws {
        try await write("migrate") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                logger: self.logger
            )
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), \(Date().timeIntervalSince1970))",
                    logger: self.logger
                )
                self.logger.info("store migrated", metadata: ["migration": "\(migration.name)"])
            }
        }
    }

    /// Whether the database holds a Portcullis schema (``migrate()`` has run on it).
    public func hasSchema() async throws -> Bool {
        try await read("check the schema") { connection in
            let rows = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: self.logger)
            for try await exists in rows.decode(Bool.self) { return exists }
            return false
        }
    }

    // MARK: - running queries

    /// Cancelling the task ends the operation: postgres-nio does not give up a query when its
    /// task is cancelled (it waits for the server's answer, for ever if the server hangs), so the
    /// connection the operation holds is closed, which fails the query at once; the pool drops
    /// that connection and opens another. A request's deadline (``StoreDeadline``) cancels this
    /// way.
    func read<T: Sendable>(_ operation: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        await poolStarted.waitUntilOpen()
        return try await storeOperation(operation, observer: observer, describe: Self.describe) {
            try await client.withConnection { connection in
                try await Self.closingOnCancel(connection) { try await body(connection) }
            }
        }
    }

    /// One transaction. Cancelled, it is rolled back by closing its connection (or, if its
    /// `COMMIT` had already been sent, its outcome is the server's).
    func write<T: Sendable>(_ operation: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        await poolStarted.waitUntilOpen()
        return try await storeOperation(operation, observer: observer, describe: Self.describe) {
            do {
                return try await client.withConnection { connection in
                    try await Self.closingOnCancel(connection) {
                        try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
                    }
                }
            } catch let error as PostgresTransactionError {
                // The closure's own refusals pass through as they are.
                if let outcome = error.closureError, isStoreOutcome(outcome) { throw outcome }
                let cause = error.closureError ?? error.commitError ?? error.beginError
                throw StoreError(operation: operation, reason: cause.map(Self.describe) ?? "the transaction failed")
            }
        }
    }

    /// Runs `body` on `connection`, closing the connection if the task is cancelled meanwhile.
    /// A cancelled operation returns only once the connection is closed: the pool hears of the
    /// close first, so it never hands the closed connection to the next caller (whose query
    /// would fail at once, though the server may be well).
    nonisolated(nonsending) static func closingOnCancel<T>(
        _ connection: PostgresConnection, _ body: () async throws -> T
    ) async throws -> T {
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await withTaskCancellationHandler {
                try await body()
            } onCancel: {
                connection.close().whenComplete { _ in }
            })
        } catch {
            outcome = .failure(error)
        }
        if Task.isCancelled {
            try? await connection.close()
        }
        return try outcome.get()
    }

    /// The server's message when there is one; never the bound values.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Announces a change; it goes out when the transaction commits. The database adds its
    /// clock's time (`"at"`, seconds since 1970) so that receivers can tell how long the change
    /// took to reach them.
    func notify(_ change: StoreChange, on connection: PostgresConnection) async throws {
        let payload = ChangeMessage(change).encodedWithoutClosingBrace
        try await connection.query(
            "SELECT pg_notify(\(Self.channel), \(payload) || ',\"at\":' || extract(epoch FROM clock_timestamp())::text || '}')",
            logger: logger
        )
    }

    // MARK: - the change feed

    public func changes() -> AsyncStream<AnnouncedChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: AnnouncedChange.self, bufferingPolicy: .bufferingNewest(1_000))
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    private func publish(_ change: AnnouncedChange) {
        for continuation in subscribers.withLock({ Array($0.values) }) {
            continuation.yield(change)
        }
    }

    /// LISTENs on a dedicated connection; after a loss reconnects (backing off up to 2 s) and
    /// asks subscribers to resynchronise, since notifications sent meanwhile are gone.
    private func listen() async {
        var delay = Duration.milliseconds(100)
        var connectedBefore = false
        var nextID = 1
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: group.next(), configuration: try url.connectionConfiguration(), id: nextID, logger: logger
                )
                nextID += 1
                do {
                    let reconnected = connectedBefore
                    try await connection.listen(on: Self.channel) { notifications in
                        self.listening.store(true, ordering: .releasing)
                        if reconnected {
                            self.logger.notice("change listener reconnected; resynchronising")
                            self.publish(AnnouncedChange(.resynchronize))
                        }
                        for try await notification in notifications {
                            self.publish(ChangeMessage.announced(notification.payload))
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("change listener lost its connection", metadata: ["error": "\(Self.describe(error))"]) }
                }
                if listening.load(ordering: .acquiring) {
                    connectedBefore = true
                    delay = .milliseconds(100)
                }
                listening.store(false, ordering: .releasing)
                try? await connection.close()
            } catch {
                listening.store(false, ordering: .releasing)
                if !Task.isCancelled { logger.warning("change listener cannot connect", metadata: ["error": "\(Self.describe(error))"]) }
            }
            if Task.isCancelled { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}

/// The wire form of a change, kept under NOTIFY's 8,000-byte payload limit.
struct ChangeMessage: Codable {
    var kind: String
    var sessions: [String]?
    var users: [String]?
    /// Added by the database as it sends the message: its clock, seconds since 1970.
    var at: Double?

    init(_ change: StoreChange) {
        switch change {
        case .sessionsRevoked(let sessions, let users):
            kind = "sessions"
            // Past ~100 hashes, name the users only: receivers then drop every cached identity.
            self.sessions = sessions.count <= 100 ? sessions.map(\.hex) : nil
            self.users = users.count <= 100 ? users : nil
        case .sessionsChanged(let sessions):
            // Receivers from before this kind resynchronise: they drop everything, which is safe.
            kind = "sessions_changed"
            self.sessions = sessions.count <= 100 ? sessions.map(\.hex) : nil
        case .policyChanged: kind = "policy"
        case .networkChanged: kind = "network"
        case .resynchronize: kind = "resynchronize"
        }
    }

    var encoded: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"kind\":\"resynchronize\"}"
    }

    /// The JSON object without its final `}`, for the database to append `"at"` to.
    var encodedWithoutClosingBrace: String {
        let text = encoded
        return text.hasSuffix("}") ? String(text.dropLast()) : "{\"kind\":\"resynchronize\""
    }

    /// The change and, when the message carries it, the database's time of sending. A message
    /// that cannot be read asks for a resynchronisation.
    static func announced(_ payload: String) -> AnnouncedChange {
        guard let message = try? JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8)) else {
            return AnnouncedChange(.resynchronize)
        }
        return AnnouncedChange(message.change, committedAt: message.at.map { Date(timeIntervalSince1970: $0) })
    }

    var change: StoreChange {
        switch kind {
        case "sessions":
            guard let sessions, let users else { return .resynchronize }
            return .sessionsRevoked(sessions: sessions.compactMap(SessionIDHash.init(hex:)), users: users)
        case "sessions_changed":
            guard let sessions else { return .resynchronize }
            return .sessionsChanged(sessions: sessions.compactMap(SessionIDHash.init(hex:)))
        case "policy": return .policyChanged
        case "network": return .networkChanged
        default: return .resynchronize
        }
    }
}
