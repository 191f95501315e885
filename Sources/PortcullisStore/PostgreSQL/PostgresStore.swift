import Logging
import NIOCore
import NIOPosix
import PortcullisCore
import ServiceLifecycle

/// The shared store (several instances): ``SQLStore`` on PostgreSQL, with its change feed. Run
/// it as a service (``run()``) before using it: it runs the connection pool and the listener.
package typealias PostgresStore = SQLStore<PostgresBackend>

extension SQLStore where Backend == PostgresBackend {
    package convenience init(
        url: PostgresURL, maxConnections: Int = StoreConfiguration.defaultPostgresConnections, listenURL: PostgresURL? = nil,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, observer: (any StoreOperationObserver)? = nil
    ) {
        self.init(
            backend: PostgresBackend(url: url, maxConnections: maxConnections, listenURL: listenURL, logger: logger, group: group),
            observer: observer
        )
    }

    package var url: PostgresURL { backend.url }

    /// Whether the change listener's connection is up (for tests and readiness).
    package var isListening: Bool { backend.isListening }

    /// Runs the connection pool and the change listener until cancelled.
    package func run() async {
        await backend.run()
    }

    /// Creates or upgrades the schema. Safe to run from several instances at once.
    package func migrate() async throws {
        try await storeOperation("migrate", observer: observer, describe: PostgresBackend.describe) { try await backend.migrate() }
    }

    /// Whether the database holds a Portcullis schema (``migrate()`` has run on it).
    package func hasSchema() async throws -> Bool {
        try await storeOperation("check the schema", observer: observer, describe: PostgresBackend.describe) { try await backend.hasSchema() }
    }
}

extension SQLStore: Service where Backend == PostgresBackend {}

extension SQLStore: StoreChangeFeed where Backend == PostgresBackend {
    /// Changes committed by any instance (this one included), from now until the stream is
    /// dropped.
    package func changes() -> AsyncStream<AnnouncedChange> {
        backend.changes()
    }
}
