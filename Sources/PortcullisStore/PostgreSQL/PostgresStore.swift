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
    private let group: any EventLoopGroup
    private let subscribers = Mutex<[UUID: AsyncStream<StoreChange>.Continuation]>([:])
    /// Whether the listening connection is up (for tests and readiness).
    private let listening = Atomic<Bool>(false)
    /// `identity.groups.source`: which memberships count for effective roles.
    let membershipPolicy = Mutex<GroupSourcePolicy>(.both)
    static let channel = "portcullis_changes"
    /// Serialises audited writes (the hash chain) and role decisions (the last-holder rule).
    static let writeLock: Int64 = 0x706F_7274_6375_6C6C

    public init(url: PostgresURL, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.url = url
        self.logger = logger
        self.group = group
        client = PostgresClient(configuration: url.clientConfiguration, eventLoopGroup: group, backgroundLogger: logger)
    }

    public var isListening: Bool { listening.load(ordering: .acquiring) }

    /// Runs the connection pool and the change listener until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
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

    // MARK: - running queries

    func read<T: Sendable>(_ operation: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await storeOperation(operation, describe: Self.describe) {
            try await client.withConnection { connection in try await body(connection) }
        }
    }

    /// One transaction.
    func write<T: Sendable>(_ operation: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await storeOperation(operation, describe: Self.describe) {
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                // The closure's own refusals pass through as they are.
                if let outcome = error.closureError, isStoreOutcome(outcome) { throw outcome }
                let cause = error.closureError ?? error.commitError ?? error.beginError
                throw StoreError(operation: operation, reason: cause.map(Self.describe) ?? "the transaction failed")
            }
        }
    }

    /// The server's message when there is one; never the bound values.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Announces a change; it goes out when the transaction commits.
    func notify(_ change: StoreChange, on connection: PostgresConnection) async throws {
        let payload = ChangeMessage(change).encoded
        try await connection.query("SELECT pg_notify(\(Self.channel), \(payload))", logger: logger)
    }

    // MARK: - the change feed

    public func changes() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingNewest(1_000))
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    private func publish(_ change: StoreChange) {
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
                    try await connection.listen(on: Self.channel) { notifications in
                        listening.store(true, ordering: .releasing)
                        if connectedBefore {
                            logger.notice("change listener reconnected; resynchronising")
                            publish(.resynchronize)
                        }
                        connectedBefore = true
                        delay = .milliseconds(100)
                        for try await notification in notifications {
                            if let change = ChangeMessage.decode(notification.payload) { publish(change) }
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("change listener lost its connection", metadata: ["error": "\(Self.describe(error))"]) }
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

    init(_ change: StoreChange) {
        switch change {
        case .sessionsRevoked(let sessions, let users):
            kind = "sessions"
            // Past ~100 hashes, name the users only: receivers then drop every cached identity.
            self.sessions = sessions.count <= 100 ? sessions.map(\.hex) : nil
            self.users = users.count <= 100 ? users : nil
        case .policyChanged: kind = "policy"
        case .networkChanged: kind = "network"
        case .resynchronize: kind = "resynchronize"
        }
    }

    var encoded: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"kind\":\"resynchronize\"}"
    }

    static func decode(_ payload: String) -> StoreChange? {
        guard let message = try? JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8)) else { return .resynchronize }
        switch message.kind {
        case "sessions":
            guard let sessions = message.sessions, let users = message.users else { return .resynchronize }
            return .sessionsRevoked(sessions: sessions.compactMap(SessionIDHash.init(hex:)), users: users)
        case "policy": return .policyChanged
        case "network": return .networkChanged
        default: return .resynchronize
        }
    }
}
