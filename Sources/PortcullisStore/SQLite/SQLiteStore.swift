import Foundation
import GRDB
import Synchronization
import PortcullisCore

/// The embedded store: one SQLite file in WAL mode, `synchronous = FULL` so that an
/// acknowledged write survives `kill -9` (and power loss). Reads and writes go through GRDB's
/// async API, so no event loop thread waits on the database.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    public let path: String
    /// Told how long each operation took (the store latency metric).
    let observer: (any StoreOperationObserver)?
    /// `identity.groups.source`: which memberships count for effective roles.
    let membershipPolicy = Mutex<GroupSourcePolicy>(.both)

    /// Opens (creating if needed) and migrates the database. Blocking file I/O: call at start-up.
    public init(path: String, observer: (any StoreOperationObserver)? = nil) throws {
        self.path = path
        self.observer = observer
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

    func write<T: Sendable>(_ operation: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await storeOperation(operation, observer: observer) { try await pool.write(body) }
    }

    func read<T: Sendable>(_ operation: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await storeOperation(operation, observer: observer) { try await pool.read(body) }
    }
}
