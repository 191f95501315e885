import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: DirectoryStore {
    public func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        try await write("record login") { connection in
            // One at a time: linking decides on what other accounts hold.
            try await lock(connection)
            let now = StoreCoding.seconds(at)
            let emailKey = StoreCoding.emailKey(profile.email)
            let id: String
            if let user = try await connection.first(
                "SELECT * FROM users WHERE subject = \(profile.subject) FOR UPDATE", logger: logger, PostgresRows.user
            ) {
                // The same person as before. Their email follows the provider's only when it is
                // verified and no other account holds it.
                id = user.id
                var email = user.email
                if profile.emailVerified, emailKey != StoreCoding.emailKey(user.email),
                   try await emailAvailable(connection, profile.email, except: id) {
                    email = profile.email
                }
                try await connection.query(
                    """
                    UPDATE users SET email = \(email), email_key = \(StoreCoding.emailKey(email)),
                        name = COALESCE(\(profile.name), name), department = COALESCE(\(profile.department), department),
                        last_login_at = \(now) WHERE id = \(id)
                    """,
                    logger: logger
                )
            } else {
                guard profile.emailVerified else {
                    throw LoginRefusal(.emailUnverified, "the identity provider does not say that \(profile.email) is verified")
                }
                if let user = try await connection.first(
                    "SELECT * FROM users WHERE email_key = \(emailKey) FOR UPDATE", logger: logger, PostgresRows.user
                ) {
                    // A pre-provisioned or bootstrapped account: linked by its verified email,
                    // unless another identity already holds it.
                    guard user.subject == nil else {
                        throw LoginRefusal(.accountConflict, "\(profile.email) belongs to an account linked to another identity")
                    }
                    id = user.id
                    try await connection.query(
                        """
                        UPDATE users SET subject = \(profile.subject), name = COALESCE(\(profile.name), name),
                            department = COALESCE(\(profile.department), department), last_login_at = \(now) WHERE id = \(id)
                        """,
                        logger: logger
                    )
                } else {
                    guard try await emailAvailable(connection, profile.email, except: nil) else {
                        throw LoginRefusal(.emailLookalike, "\(profile.email) looks like the address of an existing account")
                    }
                    id = UUID().uuidString.lowercased()
                    try await connection.query(
                        """
                        INSERT INTO users (id, email, email_key, subject, name, department, created_at, last_login_at, updated_at)
                        VALUES (\(id), \(profile.email), \(emailKey), \(profile.subject), \(profile.name), \(profile.department), \(now), \(now), \(now))
                        """,
                        logger: logger
                    )
                }
            }
            if let groups = profile.groups, try await replaceMemberships(connection, userID: id, groupNames: groups, source: .oidc, at: now) {
                // The user's other sessions carry the old groups: every instance reads them again.
                try await notify(.policyChanged, on: connection)
            }
            return try await requireUser(connection, id: id)
        }
    }

    /// No other account holds this email, or an ASCII address it folds onto.
    func emailAvailable(_ connection: PostgresConnection, _ email: String, except id: String?) async throws -> Bool {
        for key in [StoreCoding.emailKey(email), StoreCoding.lookalikeKey(email)].compactMap({ $0 }) {
            if try await connection.count("SELECT 1 FROM users WHERE email_key = \(key) AND id != \(id ?? "")", logger: logger) > 0 {
                return false
            }
        }
        return true
    }

    /// Replaces the user's memberships of one source with the named groups (created as
    /// needed). Answers whether anything changed.
    func replaceMemberships(
        _ connection: PostgresConnection, userID: String, groupNames: [String], source: GroupSource, at now: Double
    ) async throws -> Bool {
        let wanted = Set(groupNames.filter { !$0.isEmpty })
        let current = Set(try await connection.all(
            "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = \(userID) AND m.source = \(source.rawValue)",
            logger: logger
        ) { try $0.decode(String.self) })
        guard wanted != current else { return false }
        let removed = Array(current.subtracting(wanted))
        if !removed.isEmpty {
            try await connection.query(
                """
                DELETE FROM group_members WHERE user_id = \(userID) AND source = \(source.rawValue)
                    AND group_id IN (SELECT id FROM groups WHERE name = ANY(\(removed)))
                """,
                logger: logger
            )
        }
        for name in wanted.subtracting(current) {
            try await connection.query(
                """
                INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES (\(UUID().uuidString.lowercased()), \(name), \(name), \(now), \(now))
                ON CONFLICT (name) DO NOTHING
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO group_members (group_id, user_id, source) SELECT id, \(userID), \(source.rawValue) FROM groups WHERE name = \(name)
                ON CONFLICT DO NOTHING
                """,
                logger: logger
            )
        }
        return true
    }

    public func refreshDirectoryProfile(
        userID: String, name: String?, department: String?, groups: [String]?, at: Date
    ) async throws -> (before: [String], after: [String])? {
        try await write("refresh directory profile") { connection in
            guard try await connection.count("SELECT 1 FROM users WHERE id = \(userID) FOR UPDATE", logger: logger) > 0 else { return nil }
            let before = try await groupNames(connection, userID: userID)
            try await connection.query(
                "UPDATE users SET name = COALESCE(\(name), name), department = COALESCE(\(department), department) WHERE id = \(userID)",
                logger: logger
            )
            if let groups, try await replaceMemberships(connection, userID: userID, groupNames: groups, source: .oidc, at: StoreCoding.seconds(at)) {
                try await notify(.policyChanged, on: connection)
            }
            return (before, try await groupNames(connection, userID: userID))
        }
    }

    func groupNames(_ connection: PostgresConnection, userID: String) async throws -> [String] {
        try await connection.all(
            "SELECT DISTINCT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = \(userID) ORDER BY g.name",
            logger: logger
        ) { try $0.decode(String.self) }
    }

    public func countGroupMemberships(from policy: GroupSourcePolicy) {
        membershipPolicy.withLock { $0 = policy }
    }

    public func departments() async throws -> [String] {
        try await read("list departments") { connection in
            let all = try await connection.all(
                "SELECT DISTINCT department FROM users WHERE department IS NOT NULL AND department != ''", logger: logger
            ) { try $0.decode(String.self) }
            var seen = Set<String>()
            return all.sorted { $0.lowercased() < $1.lowercased() }.filter { seen.insert($0.lowercased()).inserted }
        }
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
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read groups") { connection in try await groups(connection, userID: userID, policy: policy) }
    }

    /// The user's groups through the sources that count, each with how the user is a member.
    func groups(_ connection: PostgresConnection, userID: String, policy: GroupSourcePolicy) async throws -> [GroupRecord] {
        try await connection.all(
            """
            SELECT \(unescaped: PostgresRows.groupColumns), string_agg(m.source, ',' ORDER BY m.source) AS sources FROM group_members m
            JOIN groups g ON g.id = m.group_id
            LEFT JOIN group_roles r ON r.group_id = g.id
            WHERE m.user_id = \(userID) AND m.source IN \(unescaped: StoreCoding.sourceList(policy))
            GROUP BY g.id, r.group_id ORDER BY g.name
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
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read session identity") { connection in
            guard let session = try await connection.first(
                "SELECT * FROM sessions WHERE id_hash = \(Data(idHash.bytes))", logger: logger, PostgresRows.session
            ), let identity = try await userIdentity(connection, id: session.userID, policy: policy) else { return nil }
            return SessionIdentity(session: session, user: identity.user, groups: identity.groups, defaults: identity.defaults, flags: identity.flags)
        }
    }

    public func userIdentity(userID: String) async throws -> UserIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read user identity") { connection in try await userIdentity(connection, id: userID, policy: policy) }
    }

    public func userIdentity(subject: String) async throws -> UserIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read user identity") { connection in
            guard let user = try await connection.first("SELECT * FROM users WHERE subject = \(subject)", logger: logger, PostgresRows.user) else {
                return nil
            }
            return try await identity(connection, user: user, policy: policy)
        }
    }

    func userIdentity(_ connection: PostgresConnection, id: String, policy: GroupSourcePolicy) async throws -> UserIdentity? {
        guard let user = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else {
            return nil
        }
        return try await identity(connection, user: user, policy: policy)
    }

    func identity(_ connection: PostgresConnection, user: UserRecord, policy: GroupSourcePolicy) async throws -> UserIdentity {
        UserIdentity(
            user: user,
            groups: try await groups(connection, userID: user.id, policy: policy),
            defaults: try await setting(connection, SettingKey.defaultMemberPermissions) ?? .allOn,
            flags: try await setting(connection, SettingKey.featureFlags) ?? .defaults
        )
    }
}
