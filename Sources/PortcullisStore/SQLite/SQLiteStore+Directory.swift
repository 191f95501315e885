import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: DirectoryStore {
    public func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        try await write("record login") { db in
            let now = StoreCoding.seconds(at)
            let emailKey = StoreCoding.emailKey(profile.email)
            let id: String
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE subject = ?", arguments: [profile.subject]) {
                // The same person as before. Their email follows the provider's only when it is
                // verified and no other account holds it.
                let user = SQLiteRows.user(row)
                id = user.id
                var email = user.email
                if profile.emailVerified, emailKey != StoreCoding.emailKey(user.email),
                   try Self.emailAvailable(db, profile.email, except: id) {
                    email = profile.email
                }
                try db.execute(
                    sql: """
                        UPDATE users SET email = ?, email_key = ?, name = COALESCE(?, name),
                            department = COALESCE(?, department), last_login_at = ? WHERE id = ?
                        """,
                    arguments: [email, StoreCoding.emailKey(email), profile.name, profile.department, now, id]
                )
            } else {
                guard profile.emailVerified else {
                    throw LoginRefusal(.emailUnverified, "the identity provider does not say that \(profile.email) is verified")
                }
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email_key = ?", arguments: [emailKey]) {
                    // A pre-provisioned or bootstrapped account: linked by its verified email,
                    // unless another identity already holds it.
                    let user = SQLiteRows.user(row)
                    guard user.subject == nil else {
                        throw LoginRefusal(.accountConflict, "\(profile.email) belongs to an account linked to another identity")
                    }
                    id = user.id
                    try db.execute(
                        sql: """
                            UPDATE users SET subject = ?, name = COALESCE(?, name), department = COALESCE(?, department),
                                last_login_at = ? WHERE id = ?
                            """,
                        arguments: [profile.subject, profile.name, profile.department, now, id]
                    )
                } else {
                    guard try Self.emailAvailable(db, profile.email, except: nil) else {
                        throw LoginRefusal(.emailLookalike, "\(profile.email) looks like the address of an existing account")
                    }
                    id = UUID().uuidString.lowercased()
                    try db.execute(
                        sql: """
                            INSERT INTO users (id, email, email_key, subject, name, department, created_at, last_login_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [id, profile.email, emailKey, profile.subject, profile.name, profile.department, now, now, now]
                    )
                }
            }
            if let groups = profile.groups {
                try Self.replaceMemberships(db, userID: id, groupNames: groups, source: .oidc, at: now)
            }
            return try Self.requireUser(db, id: id)
        }
    }

    /// No other account holds this email, or an ASCII address it folds onto.
    static func emailAvailable(_ db: Database, _ email: String, except id: String?) throws -> Bool {
        for key in [StoreCoding.emailKey(email), StoreCoding.lookalikeKey(email)].compactMap({ $0 }) {
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE email_key = ? AND id != ?", arguments: [key, id ?? ""]) == true {
                return false
            }
        }
        return true
    }

    /// Replaces the user's memberships of one source with the named groups (created as
    /// needed). Answers whether anything changed.
    @discardableResult
    static func replaceMemberships(_ db: Database, userID: String, groupNames: [String], source: GroupSource, at now: Double) throws -> Bool {
        let wanted = Set(groupNames.filter { !$0.isEmpty })
        let current = Set(try String.fetchAll(
            db, sql: "SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? AND m.source = ?",
            arguments: [userID, source.rawValue]
        ))
        guard wanted != current else { return false }
        for name in current.subtracting(wanted) {
            try db.execute(
                sql: "DELETE FROM group_members WHERE user_id = ? AND source = ? AND group_id = (SELECT id FROM groups WHERE name = ?)",
                arguments: [userID, source.rawValue, name]
            )
        }
        for name in wanted.subtracting(current) {
            var groupID = try String.fetchOne(db, sql: "SELECT id FROM groups WHERE name = ?", arguments: [name])
            if groupID == nil {
                let created = UUID().uuidString.lowercased()
                try db.execute(
                    sql: "INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [created, name, name, now, now]
                )
                groupID = created
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members (group_id, user_id, source) VALUES (?, ?, ?)",
                arguments: [groupID, userID, source.rawValue]
            )
        }
        return true
    }

    public func refreshDirectoryProfile(
        userID: String, name: String?, department: String?, groups: [String]?, at: Date
    ) async throws -> (before: [String], after: [String])? {
        try await write("refresh directory profile") { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [userID]) == true else { return nil }
            let before = try Self.groupNames(db, userID: userID)
            try db.execute(
                sql: "UPDATE users SET name = COALESCE(?, name), department = COALESCE(?, department) WHERE id = ?",
                arguments: [name, department, userID]
            )
            if let groups {
                try Self.replaceMemberships(db, userID: userID, groupNames: groups, source: .oidc, at: StoreCoding.seconds(at))
            }
            return (before, try Self.groupNames(db, userID: userID))
        }
    }

    /// The names of every group the user is in, from any source.
    static func groupNames(_ db: Database, userID: String) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT DISTINCT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name",
            arguments: [userID]
        )
    }

    public func countGroupMemberships(from policy: GroupSourcePolicy) {
        membershipPolicy.withLock { $0 = policy }
    }

    public func departments() async throws -> [String] {
        try await read("list departments") { db in
            let all = try String.fetchAll(db, sql: "SELECT DISTINCT department FROM users WHERE department IS NOT NULL AND department != ''")
            var seen = Set<String>()
            return all.sorted { $0.lowercased() < $1.lowercased() }.filter { seen.insert($0.lowercased()).inserted }
        }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await read("read user") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(SQLiteRows.user)
        }
    }

    public func user(email: String) async throws -> UserRecord? {
        try await read("read user") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email_key = ?", arguments: [StoreCoding.emailKey(email)])
                .map(SQLiteRows.user)
        }
    }

    public func user(subject: String) async throws -> UserRecord? {
        try await read("read user") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE subject = ?", arguments: [subject]).map(SQLiteRows.user)
        }
    }

    public func groups(ofUser userID: String) async throws -> [GroupRecord] {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read groups") { db in try Self.groups(db, userID: userID, policy: policy) }
    }

    /// The user's groups through the sources that count, each with how the user is a member.
    static func groups(_ db: Database, userID: String, policy: GroupSourcePolicy) throws -> [GroupRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(SQLiteRows.groupColumns), group_concat(m.source) AS sources FROM group_members m
                JOIN groups g ON g.id = m.group_id
                LEFT JOIN group_roles r ON r.group_id = g.id
                WHERE m.user_id = ? AND m.source IN \(StoreCoding.sourceList(policy))
                GROUP BY g.id ORDER BY g.name
                """,
            arguments: [userID]
        ).map(SQLiteRows.group)
    }

    public func setNotBefore(userID: String, _ instant: Date) async throws {
        try await write("set not-before") { db in
            try db.execute(sql: "UPDATE users SET not_before = ? WHERE id = ?", arguments: [StoreCoding.seconds(instant), userID])
        }
    }
}

extension SQLiteStore: IdentityStore {
    public func sessionIdentity(_ idHash: SessionIDHash) async throws -> SessionIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read session identity") { db in
            guard let sessionRow = try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id_hash = ?", arguments: [Data(idHash.bytes)]),
                  let session = SQLiteRows.session(sessionRow),
                  let identity = try Self.userIdentity(db, where: "id = ?", session.userID, policy: policy)
            else { return nil }
            return SessionIdentity(
                session: session, user: identity.user, groups: identity.groups,
                defaults: identity.defaults, flags: identity.flags
            )
        }
    }

    public func userIdentity(userID: String) async throws -> UserIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read user identity") { db in try Self.userIdentity(db, where: "id = ?", userID, policy: policy) }
    }

    public func userIdentity(subject: String) async throws -> UserIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read user identity") { db in try Self.userIdentity(db, where: "subject = ?", subject, policy: policy) }
    }

    static func userIdentity(_ db: Database, where filter: String, _ value: String, policy: GroupSourcePolicy) throws -> UserIdentity? {
        guard let userRow = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE \(filter)", arguments: [value]) else { return nil }
        let user = SQLiteRows.user(userRow)
        return UserIdentity(
            user: user,
            groups: try groups(db, userID: user.id, policy: policy),
            defaults: try setting(db, SettingKey.defaultMemberPermissions) ?? .allOn,
            flags: try setting(db, SettingKey.featureFlags) ?? .defaults
        )
    }
}
