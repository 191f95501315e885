import Foundation
import PortcullisCore

extension SQLStore: CredentialStore {
    package func sessionIdentity(_ idHash: SessionIDHash) async throws -> SessionIdentity? {
        let sources = countedSources
        return try await read("read session identity") { connection in
            guard let session = try await connection.first("SELECT * FROM sessions WHERE id_hash = $1", [Data(idHash.bytes)], StoreRows.session),
                  let identity = try await Self.userIdentity(connection, id: session.userID, sources: sources)
            else { return nil }
            return SessionIdentity(
                session: session, user: identity.user, groups: identity.groups, defaults: identity.defaults, flags: identity.flags
            )
        }
    }

    package func userIdentity(userID: String) async throws -> UserIdentity? {
        let sources = countedSources
        return try await read("read user identity") { connection in try await Self.userIdentity(connection, id: userID, sources: sources) }
    }

    package func userIdentity(subject: String) async throws -> UserIdentity? {
        let sources = countedSources
        return try await read("read user identity") { connection in
            try await Self.userIdentity(connection, "\(StoreRows.userWithSettings) WHERE u.subject = $1", subject, sources: sources)
        }
    }

    static func userIdentity(_ connection: some StoreConnection, id: String, sources: (String, String)) async throws -> UserIdentity? {
        try await userIdentity(connection, "\(StoreRows.userWithSettings) WHERE u.id = $1", id, sources: sources)
    }

    /// A user (the statement finds them by `$1`) with the settings that turn roles into
    /// permissions, then their groups: two queries.
    static func userIdentity(
        _ connection: some StoreConnection, _ statement: StoreStatement, _ key: String, sources: (String, String)
    ) async throws -> UserIdentity? {
        guard let row = try await connection.first(statement, [key, SettingKey.defaultMemberPermissions, SettingKey.featureFlags]) else {
            return nil
        }
        let user = try StoreRows.user(row)
        return UserIdentity(
            user: user, groups: try await groups(connection, userID: user.id, sources: sources),
            defaults: StoreCoding.decode(DefaultMemberPermissions.self, try row["setting_defaults"]) ?? .allOn,
            flags: StoreCoding.decode(FeatureFlags.self, try row["setting_flags"]) ?? .defaults
        )
    }

    /// Users with their groups (of the sources that count) and the settings, in two queries.
    static func identities(_ connection: some StoreConnection, users: [UserRecord], sources: (String, String)) async throws -> [UserIdentity] {
        var groupsByUser: [String: [GroupRecord]] = [:]
        if !users.isEmpty {
            var rowsByUser: [String: [StoreRow]] = [:]
            for row in try await connection.rows(
                """
                SELECT m.user_id AS member_id, \(StoreRows.groupColumns), m.source AS member_source
                FROM group_members m JOIN groups g ON g.id = m.group_id LEFT JOIN group_roles r ON r.group_id = g.id
                WHERE \(.isAnyOf(column: "m.user_id", parameter: 1)) AND m.source IN ($2, $3)
                ORDER BY g.name, g.id
                """,
                [users.map(\.id), sources.0, sources.1]
            ) {
                let member: String = try row["member_id"]
                rowsByUser[member, default: []].append(row)
            }
            groupsByUser = try rowsByUser.mapValues(StoreRows.groups)
        }
        let settings = try await identitySettings(connection)
        return users.map { UserIdentity(user: $0, groups: groupsByUser[$0.id] ?? [], defaults: settings.defaults, flags: settings.flags) }
    }

    /// The default member permissions and the feature flags, in one query.
    static func identitySettings(_ connection: some StoreConnection) async throws -> (defaults: DefaultMemberPermissions, flags: FeatureFlags) {
        var defaults = DefaultMemberPermissions.allOn
        var flags = FeatureFlags.defaults
        for row in try await connection.rows(
            "SELECT key, value FROM settings WHERE key IN ($1, $2)", [SettingKey.defaultMemberPermissions, SettingKey.featureFlags]
        ) {
            let key: String = try row["key"]
            let value: String = try row["value"]
            if key == SettingKey.defaultMemberPermissions {
                defaults = StoreCoding.decode(DefaultMemberPermissions.self, value) ?? .allOn
            } else {
                flags = StoreCoding.decode(FeatureFlags.self, value) ?? .defaults
            }
        }
        return (defaults, flags)
    }
}
