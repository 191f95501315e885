import Foundation
import PortcullisCore
import Synchronization

extension SQLStore: DirectoryStore {
    package func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        // Under the write lock: linking decides on what other accounts hold.
        try await lockedWrite("record login") { connection in
            let now = StoreCoding.seconds(at)
            let emailKey = StoreCoding.emailKey(profile.email)
            let id: String
            if let user = try await connection.first(
                "SELECT * FROM users WHERE subject = $1 \(.forUpdate)", [profile.subject], StoreRows.user
            ) {
                // The same person as before. Their email follows the provider's only when it is
                // verified and no other account holds it.
                id = user.id
                var email = user.email
                if profile.emailVerified, emailKey != StoreCoding.emailKey(user.email),
                   try await Self.emailAvailable(connection, profile.email, except: id) {
                    email = profile.email
                }
                try await connection.execute(
                    """
                    UPDATE users SET email = $1, email_key = $2, name = COALESCE($3, name),
                        department = COALESCE($4, department), last_login_at = $5 WHERE id = $6
                    """,
                    [email, StoreCoding.emailKey(email), profile.name, profile.department, now, id]
                )
            } else {
                guard profile.emailVerified else {
                    throw LoginRefusal(.emailUnverified, "the identity provider does not say that \(profile.email) is verified")
                }
                if let user = try await connection.first(
                    "SELECT * FROM users WHERE email_key = $1 \(.forUpdate)", [emailKey], StoreRows.user
                ) {
                    // A pre-provisioned or bootstrapped account: linked by its verified email,
                    // unless another identity already holds it.
                    guard user.subject == nil else {
                        throw LoginRefusal(.accountConflict, "\(profile.email) belongs to an account linked to another identity")
                    }
                    id = user.id
                    try await connection.execute(
                        """
                        UPDATE users SET subject = $1, name = COALESCE($2, name), department = COALESCE($3, department),
                            last_login_at = $4 WHERE id = $5
                        """,
                        [profile.subject, profile.name, profile.department, now, id]
                    )
                } else {
                    guard try await Self.emailAvailable(connection, profile.email, except: nil) else {
                        throw LoginRefusal(.emailLookalike, "\(profile.email) looks like the address of an existing account")
                    }
                    id = UUID().uuidString.lowercased()
                    try await connection.execute(
                        """
                        INSERT INTO users (id, email, email_key, subject, name, department, created_at, last_login_at, updated_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)
                        """,
                        [id, profile.email, emailKey, profile.subject, profile.name, profile.department, now]
                    )
                }
            }
            if let groups = profile.groups,
               try await Self.replaceMemberships(connection, userID: id, groupNames: groups, source: .oidc, at: now) {
                // The user's other sessions carry the old groups: every instance reads them again.
                try await connection.announce(.policyChanged)
            }
            return try await Self.requireUser(connection, id: id)
        }
    }

    /// No other account holds this email, or an ASCII address it folds onto.
    static func emailAvailable(_ connection: some StoreConnection, _ email: String, except id: String?) async throws -> Bool {
        for key in [StoreCoding.emailKey(email), StoreCoding.lookalikeKey(email)].compactMap({ $0 }) {
            if try await connection.exists("SELECT 1 FROM users WHERE email_key = $1 AND id != $2", [key, id ?? ""]) {
                return false
            }
        }
        return true
    }

    /// Replaces the user's memberships of one source with the named groups (created as
    /// needed). Answers whether anything changed.
    static func replaceMemberships(
        _ connection: some StoreConnection, userID: String, groupNames: [String], source: GroupSource, at now: Double
    ) async throws -> Bool {
        let wanted = Set(groupNames.filter { !$0.isEmpty })
        let current = Set(try await connection.all(
            "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 AND m.source = $2",
            [userID, source.rawValue]
        ) { row -> String in try row["name"] })
        guard wanted != current else { return false }
        let removed = current.subtracting(wanted).sorted()
        if !removed.isEmpty {
            try await connection.execute(
                """
                DELETE FROM group_members WHERE user_id = $1 AND source = $2
                    AND group_id IN (SELECT id FROM groups WHERE \(.isAnyOf(column: "name", parameter: 3)))
                """,
                [userID, source.rawValue, removed]
            )
        }
        for name in wanted.subtracting(current).sorted() {
            try await connection.execute(
                """
                INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES ($1, $2, $2, $3, $3)
                ON CONFLICT (name) DO NOTHING
                """,
                [UUID().uuidString.lowercased(), name, now]
            )
            try await connection.execute(
                """
                INSERT INTO group_members (group_id, user_id, source) SELECT id, $1, $2 FROM groups WHERE name = $3
                ON CONFLICT DO NOTHING
                """,
                [userID, source.rawValue, name]
            )
        }
        return true
    }

    package func refreshDirectoryProfile(
        userID: String, name: String?, department: String?, groups: [String]?, at: Date
    ) async throws -> (before: [String], after: [String])? {
        try await write("refresh directory profile") { connection in
            guard try await connection.exists("SELECT 1 FROM users WHERE id = $1 \(.forUpdate)", [userID]) else { return nil }
            let before = try await Self.groupNames(connection, userID: userID)
            try await connection.execute(
                "UPDATE users SET name = COALESCE($1, name), department = COALESCE($2, department) WHERE id = $3",
                [name, department, userID]
            )
            if let groups,
               try await Self.replaceMemberships(connection, userID: userID, groupNames: groups, source: .oidc, at: StoreCoding.seconds(at)) {
                try await connection.announce(.policyChanged)
            }
            return (before, try await Self.groupNames(connection, userID: userID))
        }
    }

    /// The names of every group the user is in, from any source.
    static func groupNames(_ connection: some StoreConnection, userID: String) async throws -> [String] {
        try await connection.all(
            "SELECT DISTINCT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name",
            [userID]
        ) { row -> String in try row["name"] }
    }

    package func countGroupMemberships(from policy: GroupSourcePolicy) {
        membershipPolicy.withLock { $0 = policy }
    }

    package func departments() async throws -> [String] {
        try await read("list departments") { connection in
            let all = try await connection.all(
                "SELECT DISTINCT department FROM users WHERE department IS NOT NULL AND department != ''"
            ) { row -> String in try row["department"] }
            var seen = Set<String>()
            return all.sorted { $0.lowercased() < $1.lowercased() }.filter { seen.insert($0.lowercased()).inserted }
        }
    }

    package func user(id: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE id = $1", [id], StoreRows.user)
        }
    }

    package func user(email: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE email_key = $1", [StoreCoding.emailKey(email)], StoreRows.user)
        }
    }

    package func user(subject: String) async throws -> UserRecord? {
        try await read("read user") { connection in
            try await connection.first("SELECT * FROM users WHERE subject = $1", [subject], StoreRows.user)
        }
    }

    /// The user, who must exist (the transaction wrote it).
    static func requireUser(_ connection: some StoreConnection, id: String) async throws -> UserRecord {
        guard let user = try await connection.first("SELECT * FROM users WHERE id = $1", [id], StoreRows.user) else {
            throw StoreError(operation: "read user", reason: "the user vanished")
        }
        return user
    }

    package func groups(ofUser userID: String) async throws -> [GroupRecord] {
        let sources = countedSources
        return try await read("read groups") { connection in try await Self.groups(connection, userID: userID, sources: sources) }
    }

    /// The user's groups through the sources that count (``countedSources``), each with how the
    /// user is a member and the group's mappings for every source (the effective role matches
    /// them on source and name): a row per membership and mapping, gathered by group.
    static func groups(_ connection: some StoreConnection, userID: String, sources: (String, String)) async throws -> [GroupRecord] {
        try StoreRows.groups(try await connection.rows(
            """
            SELECT \(StoreRows.groupColumns), m.source AS member_source FROM group_members m
            JOIN groups g ON g.id = m.group_id
            LEFT JOIN group_roles r ON r.group_id = g.id
            WHERE m.user_id = $1 AND m.source IN ($2, $3)
            ORDER BY g.name, g.id
            """,
            [userID, sources.0, sources.1]
        ))
    }

    package func setNotBefore(userID: String, _ instant: Date) async throws {
        try await write("set not-before") { connection in
            try await connection.execute("UPDATE users SET not_before = $1 WHERE id = $2", [StoreCoding.seconds(instant), userID])
            try await connection.announce(.sessionsRevoked(sessions: [], users: [userID]))
        }
    }
}
