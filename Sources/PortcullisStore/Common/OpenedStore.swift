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

    private init(store: any GatewayStore, changeFeed: (any StoreChangeFeed)?, kind: String, task: Task<Void, Never>?) {
        self.store = store
        self.changeFeed = changeFeed
        self.kind = kind
        self.task = task
    }

    /// Opens and migrates. `secret` reads the PostgreSQL URL from its file or variable; the
    /// observer is told how long each store operation takes.
    public static func open(
        _ configuration: StoreConfiguration, secret: (SecretSource) throws -> String, logger: Logger,
        observer: (any StoreOperationObserver)? = nil
    ) async throws -> OpenedStore {
        switch configuration {
        case .sqlite(let path):
            do {
                return OpenedStore(store: try SQLiteStore(path: path, observer: observer), changeFeed: nil, kind: "sqlite", task: nil)
            } catch {
                throw Failure(description: "store.sqlite.path \(path): cannot open: \(error)")
            }
        case .postgres(let source):
            let url: PostgresURL
            do {
                url = try PostgresURL(parsing: try secret(source))
            } catch {
                throw Failure(description: "store.postgres (\(source)): \(error)")
            }
            let store = PostgresStore(url: url, logger: logger, observer: observer)
            let task = Task { await store.run() }
            // Let the pool start before the first lease (postgres-nio warns otherwise).
            try? await Task.sleep(for: .milliseconds(20))
            do {
                try await store.migrate()
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
