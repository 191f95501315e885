import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: SettingsStore, OneTimeValueStore {
    func setting<T: Decodable>(_ connection: PostgresConnection, _ key: String) async throws -> T? {
        let text = try await connection.scalar("SELECT value FROM settings WHERE key = \(key)", as: String.self, logger: logger)
        return StoreCoding.decode(T.self, text)
    }

    func setSetting<T: Encodable>(_ connection: PostgresConnection, _ key: String, _ value: T) async throws {
        try await connection.query(
            """
            INSERT INTO settings (key, value, version) VALUES (\(key), \(StoreCoding.json(value)), 1)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = settings.version + 1
            """,
            logger: logger
        )
    }

    /// A setting and its version (0 while it was never written).
    func versionedSetting<T: Decodable & Hashable & Sendable>(_ connection: PostgresConnection, _ key: String, default value: T) async throws -> Versioned<T> {
        guard let (text, version) = try await connection.first(
            "SELECT value, version FROM settings WHERE key = \(key)", logger: logger, { try $0.decode((String, Int64).self) }
        ) else { return Versioned(value, version: 0) }
        return Versioned(StoreCoding.decode(T.self, text) ?? value, version: Int(version))
    }

    /// Throws ``StoreVersionConflict`` unless the setting is at `expected` (`nil` accepts any).
    func checkVersion(_ connection: PostgresConnection, _ key: String, expected: Int?) async throws {
        guard let expected else { return }
        let current = Int(try await connection.scalar("SELECT version FROM settings WHERE key = \(key)", as: Int64.self, logger: logger) ?? 0)
        guard current == expected else { throw StoreVersionConflict(expected: expected, current: current) }
    }

    public func versionedDefaultMemberPermissions() async throws -> Versioned<DefaultMemberPermissions> {
        try await read("read default member permissions") { connection in
            try await versionedSetting(connection, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
        }
    }

    public func versionedFeatureFlags() async throws -> Versioned<FeatureFlags> {
        try await read("read feature flags") { connection in
            try await versionedSetting(connection, SettingKey.featureFlags, default: FeatureFlags.defaults)
        }
    }

    public func defaultMemberPermissions() async throws -> DefaultMemberPermissions {
        try await read("read default member permissions") { connection in
            try await setting(connection, SettingKey.defaultMemberPermissions) ?? .allOn
        }
    }

    public func featureFlags() async throws -> FeatureFlags {
        try await read("read feature flags") { connection in try await setting(connection, SettingKey.featureFlags) ?? .defaults }
    }

    public func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        let candidate = create()
        return try await write("read shared secret") { connection in
            try await connection.query(
                "INSERT INTO secrets (name, value) VALUES (\(name), \(Data(candidate))) ON CONFLICT (name) DO NOTHING", logger: logger
            )
            guard let stored = try await connection.scalar("SELECT value FROM secrets WHERE name = \(name)", as: Data.self, logger: logger) else {
                throw StoreError(operation: "read shared secret", reason: "the secret vanished")
            }
            return Array(stored)
        }
    }

    public func replaceSharedSecret(named name: String, expected: [UInt8], with value: [UInt8]) async throws -> Bool {
        try await write("replace shared secret") { connection in
            try await connection.count(
                "UPDATE secrets SET value = \(Data(value)) WHERE name = \(name) AND value = \(Data(expected)) RETURNING 1", logger: logger
            ) > 0
        }
    }

    public func consumeOnce(kind: String, value: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write("consume one-time value") { connection in
            try await connection.query("DELETE FROM one_time_values WHERE expires_at < \(StoreCoding.seconds(now))", logger: logger)
            return try await connection.count(
                """
                INSERT INTO one_time_values (kind, value, expires_at) VALUES (\(kind), \(value), \(StoreCoding.seconds(expiresAt)))
                ON CONFLICT DO NOTHING RETURNING 1
                """,
                logger: logger
            ) > 0
        }
    }
}
