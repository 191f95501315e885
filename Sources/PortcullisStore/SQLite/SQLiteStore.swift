import GRDB
import PortcullisCore

/// The embedded store (one node): ``SQLStore`` on a SQLite file.
package typealias SQLiteStore = SQLStore<SQLiteBackend>

extension SQLStore where Backend == SQLiteBackend {
    /// Opens (creating if needed) and migrates the file. Blocking file I/O: call at start-up.
    package convenience init(path: String, observer: (any StoreOperationObserver)? = nil) throws {
        self.init(backend: try SQLiteBackend(path: path), observer: observer)
    }

    package var path: String { backend.path }

    /// A pragma's value, for operators and tests (`journal_mode`, `synchronous`).
    package func readPragma(_ name: String) async throws -> String? {
        let allowed = ["journal_mode", "synchronous", "foreign_keys", "user_version"]
        guard allowed.contains(name) else { return nil }
        return try await storeOperation("read pragma", observer: observer) {
            try await backend.pool.read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
        }
    }
}
