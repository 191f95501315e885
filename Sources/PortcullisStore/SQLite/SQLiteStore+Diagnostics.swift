import GRDB

extension SQLiteStore {
    /// A pragma's value, for operators and tests (`journal_mode`, `synchronous`).
    public func readPragma(_ name: String) async throws -> String? {
        let allowed = ["journal_mode", "synchronous", "foreign_keys", "user_version"]
        guard allowed.contains(name) else { return nil }
        return try await read("read pragma") { db in
            try String.fetchOne(db, sql: "PRAGMA \(name)")
        }
    }
}
