import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: DirectoryStore {
    public func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        try await write("record login") { connection in
            let now = StoreCoding.seconds(at)
            let emailKey = StoreCoding.emailKey(profile.email)
            // Match by subject first (emails change), then by email (pre-provisioned users).
            var existing = try await connection.first(
                "SELECT * FROM users WHERE subject = \(profile.subject) FOR UPDATE", logger: logger, PostgresRows.user
            )
            if existing == nil {
                existing = try await connection.first(
                    "SELECT * FROM users WHERE email_key = \(emailKey) AND (subject IS NULL OR subject = \(profile.subject)) FOR UPDATE",
                    logger: logger, PostgresRows.user
                )
            }
            let id: String
            if let existing {
                id = existing.id
                try await connection.query(
                    """
                    UPDATE users SET email = \(profile.email), email_key = \(emailKey), subject = \(profile.subject),
                        name = COALESCE(\(profile.name), name), department = COALESCE(\(profile.department), department),
                        last_login_at = \(now) WHERE id = \(id)
                    """,
                    logger: logger
                )
            } else {
                id = UUID().uuidString.lowercased()
                try await connection.query(
                    """
                    INSERT INTO users (id, email, email_key, subject, name, department, created_at, last_login_at)
                    VALUES (\(id), \(profile.email), \(emailKey), \(profile.subject), \(profile.name), \(profile.department), \(now), \(now))
                    """,
                    logger: logger
                )
            }
            if try await replaceMemberships(connection, userID: id, groupNames: profile.groups, at: now) {
                // The user's other sessions carry the old groups: every instance reads them again.
                try await notify(.policyChanged, on: connection)
            }
            guard let stored = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else {
                throw StoreError(operation: "record login", reason: "the user vanished")
            }
            return stored
        }
    }

    /// Answers whether the memberships changed.
    func replaceMemberships(_ connection: PostgresConnection, userID: String, groupNames: [String], at now: Double) async throws -> Bool {
        let wanted = Set(groupNames.filter { !$0.isEmpty })
        let current = Set(try await connection.all(
            "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = \(userID)", logger: logger
        ) { try $0.decode(String.self) })
        guard wanted != current else { return false }
        try await connection.query("DELETE FROM group_members WHERE user_id = \(userID)", logger: logger)
        for name in wanted {
            try await connection.query(
                """
                INSERT INTO groups (id, name, display_name, created_at) VALUES (\(UUID().uuidString.lowercased()), \(name), \(name), \(now))
                ON CONFLICT (name) DO NOTHING
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO group_members (group_id, user_id) SELECT id, \(userID) FROM groups WHERE name = \(name)
                ON CONFLICT DO NOTHING
                """,
                logger: logger
            )
        }
        return true
    }

    public func user(id: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user)
        }
    }

    public func user(email: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE email_key = \(StoreCoding.emailKey(email))", logger: logger, PostgresRows.user)
        }
    }

    public func user(subject: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE subject = \(subject)", logger: logger, PostgresRows.user)
        }
    }

    public func groups(ofUser userID: String) async throws -> [GroupRecord] {
        try await read("read groups") { connection in try await groups(connection, userID: userID) }
    }

    func groups(_ connection: PostgresConnection, userID: String) async throws -> [GroupRecord] {
        try await connection.all(
            """
            SELECT \(unescaped: PostgresRows.groupColumns) FROM group_members m
            JOIN groups g ON g.id = m.group_id
            LEFT JOIN group_roles r ON r.group_id = g.id
            WHERE m.user_id = \(userID) ORDER BY g.name
            """,
            logger: logger, PostgresRows.group
        )
    }

    public func setNotBefore(userID: String, _ instant: Date) async throws {
        try await write("set not-before") { connection in
            try await connection.query("UPDATE users SET not_before = \(StoreCoding.seconds(instant)) WHERE id = \(userID)", logger: logger)
            try await notify(.sessionsRevoked(sessions: [], users: [userID]), on: connection)
        }
    }
}

extension PostgresStore: IdentityStore {
    public func sessionIdentity(_ idHash: SessionIDHash) async throws -> SessionIdentity? {
        try await read("read session identity") { connection in
            guard let session = try await connection.first(
                "SELECT * FROM sessions WHERE id_hash = \(Data(idHash.bytes))", logger: logger, PostgresRows.session
            ), let identity = try await userIdentity(connection, id: session.userID) else { return nil }
            return SessionIdentity(session: session, user: identity.user, groups: identity.groups, defaults: identity.defaults, flags: identity.flags)
        }
    }

    public func userIdentity(userID: String) async throws -> UserIdentity? {
        try await read("read user identity") { connection in try await userIdentity(connection, id: userID) }
    }

    public func userIdentity(subject: String) async throws -> UserIdentity? {
        try await read("read user identity") { connection in
            guard let user = try await connection.first("SELECT * FROM users WHERE subject = \(subject)", logger: logger, PostgresRows.user) else {
                return nil
            }
            return try await identity(connection, user: user)
        }
    }

    func userIdentity(_ connection: PostgresConnection, id: String) async throws -> UserIdentity? {
        guard let user = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else {
            return nil
        }
        return try await identity(connection, user: user)
    }

    func identity(_ connection: PostgresConnection, user: UserRecord) async throws -> UserIdentity {
        UserIdentity(
            user: user,
            groups: try await groups(connection, userID: user.id),
            defaults: try await setting(connection, SettingKey.defaultMemberPermissions) ?? .allOn,
            flags: try await setting(connection, SettingKey.featureFlags) ?? .defaults
        )
    }
}
