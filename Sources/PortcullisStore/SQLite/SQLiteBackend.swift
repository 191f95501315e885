import Foundation
import GRDB

/// The embedded database: one SQLite file in WAL mode, `synchronous = FULL` so that an
/// acknowledged write survives `kill -9` (and power loss). GRDB's pool runs reads on concurrent
/// readers and writes on its one writer, on its own threads, so no event loop or task thread
/// waits on the disk; the store's body runs on that thread as an ``InlineTask``.
package final class SQLiteBackend: StoreBackend {
    let pool: DatabasePool
    let path: String

    /// Opens (creating if needed) and migrates the database. Blocking file I/O: call at start-up.
    init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.label = "portcullis"
        pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteSchema.migrator.migrate(pool)
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteStoreConnection) async throws -> T) async throws -> T {
        try await pool.read { database in
            let connection = SQLiteStoreConnection(database: database)
            return try InlineTask.run { try await body(connection) }
        }
    }

    /// An immediate transaction (GRDB's writer begins it so): the writer holds the database
    /// from its first statement.
    package func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteStoreConnection) async throws -> T) async throws -> T {
        try await pool.write { database in
            let connection = SQLiteStoreConnection(database: database)
            return try InlineTask.run { try await body(connection) }
        }
    }

    package static func describe(_ error: any Error) -> String {
        "\(error)"
    }
}
