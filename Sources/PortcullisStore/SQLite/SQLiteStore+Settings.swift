import Foundation
import GRDB
import PortcullisCore

enum SettingKey {
    static let defaultMemberPermissions = "default_member_permissions"
    static let featureFlags = "feature_flags"
    static let tenantGreenlist = "tenant_greenlist"
    static let auditHead = "audit_head"
}

extension SQLiteStore: SettingsStore, OneTimeValueStore {
    static func setting<T: Decodable>(_ db: Database, _ key: String) throws -> T? {
        let text = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        return StoreCoding.decode(T.self, text)
    }

    static func setSetting<T: Encodable>(_ db: Database, _ key: String, _ value: T) throws {
        try db.execute(
            sql: """
                INSERT INTO settings (key, value, version) VALUES (?, ?, 1)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = settings.version + 1
                """,
            arguments: [key, StoreCoding.json(value)]
        )
    }

    /// A setting and its version (0 while it was never written).
    static func versionedSetting<T: Decodable & Hashable & Sendable>(_ db: Database, _ key: String, default value: T) throws -> Versioned<T> {
        guard let row = try Row.fetchOne(db, sql: "SELECT value, version FROM settings WHERE key = ?", arguments: [key]) else {
            return Versioned(value, version: 0)
        }
        return Versioned(StoreCoding.decode(T.self, row["value"]) ?? value, version: row["version"])
    }

    /// Throws ``StoreVersionConflict`` unless the setting is at `expected` (`nil` accepts any).
    static func checkVersion(_ db: Database, _ key: String, expected: Int?) throws {
        guard let expected else { return }
        let current = try Int.fetchOne(db, sql: "SELECT version FROM settings WHERE key = ?", arguments: [key]) ?? 0
        guard current == expected else { throw StoreVersionConflict(expected: expected, current: current) }
    }

    public func versionedDefaultMemberPermissions() async throws -> Versioned<DefaultMemberPermissions> {
        try await read("read default member permissions") { db in
            try Self.versionedSetting(db, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
        }
    }

    public func versionedFeatureFlags() async throws -> Versioned<FeatureFlags> {
        try await read("read feature flags") { db in try Self.versionedSetting(db, SettingKey.featureFlags, default: FeatureFlags.defaults) }
    }

    public func defaultMemberPermissions() async throws -> DefaultMemberPermissions {
        try await read("read default member permissions") { db in try Self.setting(db, SettingKey.defaultMemberPermissions) ?? .allOn }
    }

    public func featureFlags() async throws -> FeatureFlags {
        try await read("read feature flags") { db in try Self.setting(db, SettingKey.featureFlags) ?? .defaults }
    }

    public func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        let candidate = create()
        return try await write("read shared secret") { db in
            if let existing = try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name]) {
                return Array(existing)
            }
            try db.execute(sql: "INSERT INTO secrets (name, value) VALUES (?, ?)", arguments: [name, Data(candidate)])
            return candidate
        }
    }

    public func replaceSharedSecret(named name: String, expected: [UInt8], with value: [UInt8]) async throws -> Bool {
        try await write("replace shared secret") { db in
            try db.execute(
                sql: "UPDATE secrets SET value = ? WHERE name = ? AND value = ?",
                arguments: [Data(value), name, Data(expected)]
            )
            return db.changesCount > 0
        }
    }

    public func consumeOnce(kind: String, value: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write("consume one-time value") { db in
            try db.execute(sql: "DELETE FROM one_time_values WHERE expires_at < ?", arguments: [StoreCoding.seconds(now)])
            try db.execute(
                sql: "INSERT OR IGNORE INTO one_time_values (kind, value, expires_at) VALUES (?, ?, ?)",
                arguments: [kind, value, StoreCoding.seconds(expiresAt)]
            )
            return db.changesCount > 0
        }
    }
}
