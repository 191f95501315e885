import Foundation
import Logging
import PortcullisCore

/// The store a configuration names, open and (for PostgreSQL) running: the executable, the
/// commands that work on the store and the tests all open stores through this.
public final class OpenedStore: Sendable {
    public let store: any GatewayStore
    /// PostgreSQL's LISTEN/NOTIFY feed; `nil` for SQLite (one node: nothing to hear).
    public let changeFeed: (any StoreChangeFeed)?
    public let kind: String
    private let task: Task<Void, Never>?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// There is no store where the configuration points, and the caller asked not to create
    /// one (commands that read a store: an empty store would answer "no sessions", "chain
    /// intact" about nothing).
    public struct Missing: Error, CustomStringConvertible {
        /// `the file /srv/var/portcullis.sqlite does not exist`.
        public let problem: String
        /// The configuration key that names it.
        public let key: String
        public var description: String { "no store: \(problem) (\(key)); nothing was created" }
    }

    private init(store: any GatewayStore, changeFeed: (any StoreChangeFeed)?, kind: String, task: Task<Void, Never>?) {
        self.store = store
        self.changeFeed = changeFeed
        self.kind = kind
        self.task = task
    }

    /// Opens and migrates. `secret` reads the PostgreSQL URL from its file or variable; the
    /// observer is told how long each store operation takes. With `creating: false` a store
    /// that does not exist yet is refused with ``Missing`` rather than created.
    public static func open(
        _ configuration: StoreConfiguration, secret: (SecretSource) throws -> String, logger: Logger,
        observer: (any StoreOperationObserver)? = nil, creating: Bool = true
    ) async throws -> OpenedStore {
        switch configuration {
        case .sqlite(let path):
            if !creating, !FileManager.default.fileExists(atPath: path) {
                throw Missing(problem: "the file \(path) does not exist", key: "store.sqlite.path")
            }
            do {
                return OpenedStore(store: try SQLiteStore(path: path, observer: observer), changeFeed: nil, kind: "sqlite", task: nil)
            } catch {
                throw Failure(description: "store.sqlite.path \(path): cannot open: \(error)")
            }
        case .postgres(let source, let maxConnections, let listenSource):
            let url: PostgresURL
            let listenURL: PostgresURL?
            do {
                url = try PostgresURL(parsing: try secret(source))
            } catch {
                throw Failure(description: "store.postgres (\(source)): \(error)")
            }
            do {
                listenURL = try listenSource.map { try PostgresURL(parsing: try secret($0)) }
            } catch {
                throw Failure(description: "store.postgres.listen_url (\(listenSource.map { "\($0)" } ?? "")): \(error)")
            }
            let store = PostgresStore(url: url, maxConnections: maxConnections, listenURL: listenURL, logger: logger, observer: observer)
            // Queries wait until `run()` has started the pool.
            let task = Task { await store.run() }
            do {
                if !creating, try await !store.hasSchema() {
                    task.cancel()
                    await task.value
                    throw Missing(
                        problem: "the PostgreSQL database \(url.database) on \(url.host):\(url.port) holds no Portcullis store", key: "store.postgres"
                    )
                }
                try await store.migrate()
            } catch let missing as Missing {
                throw missing
            } catch {
                task.cancel()
                await task.value
                throw Failure(description: "store.postgres \(url): cannot open: \(error)")
            }
            logger.info("store opened", metadata: ["kind": "postgres", "url": "\(url)"])
            return OpenedStore(store: store, changeFeed: store, kind: "postgres", task: task)
        }
    }

    /// Stops the connection pool and the listener.
    public func close() async {
        task?.cancel()
        await task?.value
    }
}
