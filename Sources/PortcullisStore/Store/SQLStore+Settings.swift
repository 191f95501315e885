import Foundation
import PortcullisCore

/// The keys of the `settings` table.
enum SettingKey {
    static let defaultMemberPermissions = "default_member_permissions"
    static let featureFlags = "feature_flags"
    static let tenantGreenlist = "tenant_greenlist"
    static let auditHead = "audit_head"
}

extension SQLStore: SettingsStore, SharedSecretStore, OneTimeValueStore {
    static func setting<T: Decodable>(_ connection: some StoreConnection, _ key: String) async throws -> T? {
        let text = try await connection.scalar("SELECT value FROM settings WHERE key = $1", [key], as: String.self)
        return StoreCoding.decode(T.self, text)
    }

    static func setSetting<T: Encodable>(_ connection: some StoreConnection, _ key: String, _ value: T) async throws {
        try await connection.execute(
            """
            INSERT INTO settings (key, value, version) VALUES ($1, $2, 1)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = settings.version + 1
            """,
            [key, StoreCoding.json(value)]
        )
    }

    static func deleteSetting(_ connection: some StoreConnection, _ key: String) async throws {
        try await connection.execute("DELETE FROM settings WHERE key = $1", [key])
    }

    /// A setting and its version (0 while it was never written).
    static func versionedSetting<T: Decodable & Hashable & Sendable>(
        _ connection: some StoreConnection, _ key: String, default value: T
    ) async throws -> Versioned<T> {
        guard let row = try await connection.first("SELECT value, version FROM settings WHERE key = $1", [key]) else {
            return Versioned(value, version: 0)
        }
        return Versioned(StoreCoding.decode(T.self, try row["value"] as String) ?? value, version: try row["version"])
    }

    /// Throws ``StoreVersionConflict`` unless the setting is at `expected` (`nil` accepts any).
    static func checkVersion(_ connection: some StoreConnection, _ key: String, expected: Int?) async throws {
        guard let expected else { return }
        let current = try await connection.scalar("SELECT version FROM settings WHERE key = $1", [key], as: Int.self) ?? 0
        guard current == expected else { throw StoreVersionConflict(expected: expected, current: current) }
    }

    package func versionedDefaultMemberPermissions() async throws -> Versioned<DefaultMemberPermissions> {
        try await read("read default member permissions") { connection in
            try await Self.versionedSetting(connection, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
        }
    }

    package func versionedFeatureFlags() async throws -> Versioned<FeatureFlags> {
        try await read("read feature flags") { connection in
            try await Self.versionedSetting(connection, SettingKey.featureFlags, default: FeatureFlags.defaults)
        }
    }

    package func defaultMemberPermissions() async throws -> DefaultMemberPermissions {
        try await read("read default member permissions") { connection in
            try await Self.setting(connection, SettingKey.defaultMemberPermissions) ?? .allOn
        }
    }

    package func featureFlags() async throws -> FeatureFlags {
        try await read("read feature flags") { connection in try await Self.setting(connection, SettingKey.featureFlags) ?? .defaults }
    }

    package func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        let candidate = create()
        return try await write("read shared secret") { connection in
            try await connection.execute(
                "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, Data(candidate)]
            )
            guard let stored = try await connection.scalar("SELECT value FROM secrets WHERE name = $1", [name], as: Data.self) else {
                throw StoreError(operation: "read shared secret", reason: "the secret vanished")
            }
            return Array(stored)
        }
    }

    package func replaceSharedSecret(named name: String, expected: [UInt8], with value: [UInt8]) async throws -> Bool {
        try await write("replace shared secret") { connection in
            try await connection.count(
                "UPDATE secrets SET value = $1 WHERE name = $2 AND value = $3 RETURNING 1", [Data(value), name, Data(expected)]
            ) > 0
        }
    }

    package func consumeOnce(kind: String, value: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write("consume one-time value") { connection in
            try await connection.execute("DELETE FROM one_time_values WHERE expires_at < $1", [StoreCoding.seconds(now)])
            return try await connection.count(
                """
                INSERT INTO one_time_values (kind, value, expires_at) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING RETURNING 1
                """,
                [kind, value, StoreCoding.seconds(expiresAt)]
            ) > 0
        }
    }
}
