import Foundation
import Logging
import NIOCore
import NIOPosix
import PortcullisCore
import PostgresNIO
import Synchronization

/// The shared database (SPEC §8): several gateway instances on one PostgreSQL. A pool of
/// connections for reads and transactions; the write lock is a transaction-scoped advisory
/// lock; changes are announced with `NOTIFY` inside the transaction that makes them, so they go
/// out exactly when they commit, and every instance `LISTEN`s on a connection of its own,
/// resubscribing (and asking for a resynchronisation) after losing it.
package final class PostgresBackend: StoreBackend {
    let client: PostgresClient
    let url: PostgresURL
    /// Where the change listener connects (``url`` unless `store.postgres.listen_url` says otherwise).
    let listenURL: PostgresURL
    let logger: Logger
    private let group: any EventLoopGroup
    private let subscribers = Mutex<[UUID: AsyncStream<AnnouncedChange>.Continuation]>([:])
    /// Whether the listening connection is up (for tests and readiness).
    private let listening = Atomic<Bool>(false)
    /// Opens when ``run()`` starts the pool; every query waits for it.
    private let poolStarted = PoolStartGate()
    static let channel = "portcullis_changes"
    /// The store's write lock (``StoreConnection/lockForWriting()``), also taken by migrations.
    static let writeLock: Int64 = 0x706F_7274_6375_6C6C

    /// `maxConnections`: the query pool's size (`store.postgres.max_connections`); the
    /// listener's connection is one more, to `listenURL` when given (the server itself, when
    /// `url` is a PgBouncer in transaction mode, which cannot hold a LISTEN), else to `url`.
    init(url: PostgresURL, maxConnections: Int, listenURL: PostgresURL? = nil, logger: Logger, group: any EventLoopGroup) {
        self.url = url
        self.listenURL = listenURL ?? url
        self.logger = logger
        self.group = group
        client = PostgresClient(
            configuration: url.clientConfiguration(maxConnections: maxConnections), eventLoopGroup: group, backgroundLogger: logger
        )
    }

    var isListening: Bool { listening.load(ordering: .acquiring) }

    /// Runs the connection pool and the change listener until cancelled.
    func run() async {
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

    // MARK: - connections

    // Cancelling the task ends the operation: postgres-nio does not give up a query when its
    // task is cancelled (it waits for the server's answer, for ever if the server hangs), so the
    // connection the operation holds is closed, which fails the query at once; the pool drops
    // that connection and opens another. A request's deadline (``StoreDeadline``) cancels this
    // way. A cancelled transaction is rolled back by the close (or, if its `COMMIT` had already
    // been sent, its outcome is the server's).

    package func read<T: Sendable>(_ body: @escaping @Sendable (PostgresStoreConnection) async throws -> T) async throws -> T {
        await poolStarted.waitUntilOpen()
        return try await client.withConnection { connection in
            try await Self.closingOnCancel(connection) {
                try await body(PostgresStoreConnection(connection: connection, logger: self.logger))
            }
        }
    }

    package func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresStoreConnection) async throws -> T) async throws -> T {
        await poolStarted.waitUntilOpen()
        do {
            return try await client.withConnection { connection in
                try await Self.closingOnCancel(connection) {
                    try await connection.withTransaction(logger: self.logger) { connection in
                        try await body(PostgresStoreConnection(connection: connection, logger: self.logger))
                    }
                }
            }
        } catch let error as PostgresTransactionError {
            // What went wrong, without postgres-nio's wrapper: the closure's own refusals pass
            // through as they are.
            throw error.closureError ?? error.commitError ?? error.beginError ?? TransactionFailed()
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

    struct TransactionFailed: Error, CustomStringConvertible {
        var description: String { "the transaction failed" }
    }

    /// The server's message when there is one; never the bound values.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    // MARK: - migrations

    /// Creates or upgrades the schema (``StoreSchema``) under the write lock, so that instances
    /// starting together do not race; each migration is recorded in `schema_migrations`.
    func migrate() async throws {
        try await transaction { store in
            let connection = store.connection
            try await store.lockForWriting()
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                logger: self.logger
            )
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in StoreSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.statements(for: .postgres) {
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
    func hasSchema() async throws -> Bool {
        try await read { store in
            try await store.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL", as: Bool.self) ?? false
        }
    }

    // MARK: - the change feed

    func changes() -> AsyncStream<AnnouncedChange> {
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
                    on: group.next(), configuration: try listenURL.connectionConfiguration(), id: nextID, logger: logger
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
