import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: DirectoryStore {
    public func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        try await write("record login") { db in
            let now = StoreCoding.seconds(at)
            let emailKey = StoreCoding.emailKey(profile.email)
            // Match by subject first (emails change), then by email (pre-provisioned users).
            var row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE subject = ?", arguments: [profile.subject])
            if row == nil {
                row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email_key = ? AND (subject IS NULL OR subject = ?)", arguments: [emailKey, profile.subject])
            }
            let id: String
            if let row {
                id = row["id"]
                try db.execute(
                    sql: """
                        UPDATE users SET email = ?, email_key = ?, subject = ?, name = COALESCE(?, name),
                            department = COALESCE(?, department), last_login_at = ? WHERE id = ?
                        """,
                    arguments: [profile.email, emailKey, profile.subject, profile.name, profile.department, now, id]
                )
            } else {
                id = UUID().uuidString.lowercased()
                try db.execute(
                    sql: """
                        INSERT INTO users (id, email, email_key, subject, name, department, created_at, last_login_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [id, profile.email, emailKey, profile.subject, profile.name, profile.department, now, now]
                )
            }
            try Self.replaceMemberships(db, userID: id, groupNames: profile.groups, at: now)
            guard let stored = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else {
                throw StoreError(operation: "record login", reason: "the user vanished")
            }
            return SQLiteRows.user(stored)
        }
    }

    static func replaceMemberships(_ db: Database, userID: String, groupNames: [String], at now: Double) throws {
        try db.execute(sql: "DELETE FROM group_members WHERE user_id = ?", arguments: [userID])
        for name in Set(groupNames) where !name.isEmpty {
            var groupID = try String.fetchOne(db, sql: "SELECT id FROM groups WHERE name = ?", arguments: [name])
            if groupID == nil {
                let created = UUID().uuidString.lowercased()
                try db.execute(
                    sql: "INSERT INTO groups (id, name, display_name, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [created, name, name, now]
                )
                groupID = created
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)",
                arguments: [groupID, userID]
            )
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
        try await read("read groups") { db in try Self.groups(db, userID: userID) }
    }

    static func groups(_ db: Database, userID: String) throws -> [GroupRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(SQLiteRows.groupColumns) FROM group_members m
                JOIN groups g ON g.id = m.group_id
                LEFT JOIN group_roles r ON r.group_id = g.id
                WHERE m.user_id = ? ORDER BY g.name
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
        try await read("read session identity") { db in
            guard let sessionRow = try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id_hash = ?", arguments: [Data(idHash.bytes)]),
                  let session = SQLiteRows.session(sessionRow),
                  let identity = try Self.userIdentity(db, where: "id = ?", session.userID)
            else { return nil }
            return SessionIdentity(
                session: session, user: identity.user, groups: identity.groups,
                defaults: identity.defaults, flags: identity.flags
            )
        }
    }

    public func userIdentity(userID: String) async throws -> UserIdentity? {
        try await read("read user identity") { db in try Self.userIdentity(db, where: "id = ?", userID) }
    }

    public func userIdentity(subject: String) async throws -> UserIdentity? {
        try await read("read user identity") { db in try Self.userIdentity(db, where: "subject = ?", subject) }
    }

    static func userIdentity(_ db: Database, where filter: String, _ value: String) throws -> UserIdentity? {
        guard let userRow = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE \(filter)", arguments: [value]) else { return nil }
        let user = SQLiteRows.user(userRow)
        return UserIdentity(
            user: user,
            groups: try groups(db, userID: user.id),
            defaults: try setting(db, SettingKey.defaultMemberPermissions) ?? .allOn,
            flags: try setting(db, SettingKey.featureFlags) ?? .defaults
        )
    }
}
