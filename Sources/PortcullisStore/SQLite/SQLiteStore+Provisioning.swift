import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: ProvisioningStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try await write("provision user") { db in
            let key = StoreCoding.emailKey(user.email)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE email_key = ?", arguments: [key]) == true {
                throw StoreConflict("a user with userName \(user.email) exists")
            }
            let id = UUID().uuidString.lowercased()
            try db.execute(
                sql: """
                    INSERT INTO users (id, email, email_key, name, department, active, external_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, user.email, key, user.name, user.department, user.active ? 1 : 0, user.externalID, StoreCoding.seconds(audit.at)]
            )
            try Self.appendAudit(db, AuditEvent(audit, action: .userProvisioned, target: user.email, before: nil, after: StoreCoding.provisioned(user)))
            return try Self.requireUser(db, id: id)
        }
    }

    public func updateProvisionedUser(id: String, _ user: ProvisionedUser, audit: AuditContext) async throws -> (UserRecord, DeprovisioningOutcome)? {
        try await write("update provisioned user") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else { return nil }
            let before = SQLiteRows.user(row)
            let key = StoreCoding.emailKey(user.email)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE email_key = ? AND id != ?", arguments: [key, id]) == true {
                throw StoreConflict("a user with userName \(user.email) exists")
            }
            try db.execute(
                sql: "UPDATE users SET email = ?, email_key = ?, name = ?, department = ?, active = ?, external_id = ? WHERE id = ?",
                arguments: [user.email, key, user.name, user.department, user.active ? 1 : 0, user.externalID, id]
            )
            var outcome = DeprovisioningOutcome.none
            if !user.active {
                outcome = try Self.endEverything(db, userID: id, at: audit.at, by: audit.actor, reason: "deactivated by the identity provider")
            }
            let action: AuditAction = before.active && !user.active ? .userDeprovisioned : .userProvisioned
            try Self.appendAudit(db, AuditEvent(
                audit, action: action, target: user.email,
                before: StoreCoding.provisioned(ProvisionedUser(email: before.email, name: before.name, department: before.department,
                                                                active: before.active, externalID: before.externalID)),
                after: StoreCoding.provisioned(user, outcome: outcome)
            ))
            return (try Self.requireUser(db, id: id), outcome)
        }
    }

    public func deleteProvisionedUser(id: String, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        try await write("delete provisioned user") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else { return nil }
            let user = SQLiteRows.user(row)
            let outcome = try Self.endEverything(db, userID: id, at: audit.at, by: audit.actor, reason: "deleted by the identity provider")
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            try Self.appendAudit(db, AuditEvent(
                audit, action: .userDeprovisioned, target: user.email, before: StoreCoding.jsonValue(user.directRoles),
                after: .object(["deleted": .bool(true), "revoked_sessions": .number(Double(outcome.revokedSessions.count)),
                                "revoked_tokens": .number(Double(outcome.revokedTokens))])
            ))
            return outcome
        }
    }

    /// Revokes every session and API token of a user and refuses earlier bearer JWTs.
    static func endEverything(_ db: Database, userID: String, at: Date, by actor: String, reason: String) throws -> DeprovisioningOutcome {
        let seconds = StoreCoding.seconds(at)
        try db.execute(sql: "UPDATE users SET not_before = ? WHERE id = ?", arguments: [seconds, userID])
        let rows = try Row.fetchAll(db, sql: "SELECT id_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL", arguments: [userID])
        try db.execute(
            sql: "UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
            arguments: [seconds, actor, reason, userID]
        )
        try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE owner_id = ? AND revoked_at IS NULL", arguments: [seconds, userID])
        return DeprovisioningOutcome(revokedSessions: SQLiteRows.hashes(rows), revokedTokens: db.changesCount)
    }

    static func requireUser(_ db: Database, id: String) throws -> UserRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else {
            throw StoreError(operation: "read user", reason: "the user vanished")
        }
        return SQLiteRows.user(row)
    }

    public func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int) {
        try await read("list users") { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            let users = try Row.fetchAll(
                db, sql: "SELECT * FROM users ORDER BY email_key LIMIT ? OFFSET ?", arguments: [max(0, limit), max(0, offset)]
            ).map(SQLiteRows.user)
            return (users, total)
        }
    }

    public func provisionGroup(name: String, externalID: String?, members: [String], audit: AuditContext) async throws -> ProvisionedGroup {
        try await write("provision group") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ?", arguments: [name]) == true {
                throw StoreConflict("a group with displayName \(name) exists")
            }
            let id = UUID().uuidString.lowercased()
            try db.execute(
                sql: "INSERT INTO groups (id, name, display_name, external_id, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, name, name, externalID, StoreCoding.seconds(audit.at)]
            )
            try Self.setMembers(db, groupID: id, members: members)
            let group = try Self.requireGroup(db, id: id)
            try Self.appendAudit(db, AuditEvent(audit, action: .groupProvisioned, target: name, before: nil, after: StoreCoding.members(group)))
            return group
        }
    }

    public func replaceProvisionedGroup(
        id: String, name: String, externalID: String?, members: [String], audit: AuditContext
    ) async throws -> ProvisionedGroup? {
        try await write("replace provisioned group") { db in
            guard let before = try Self.provisionedGroup(db, id: id) else { return nil }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ? AND id != ?", arguments: [name, id]) == true {
                throw StoreConflict("a group with displayName \(name) exists")
            }
            try db.execute(sql: "UPDATE groups SET name = ?, display_name = ?, external_id = ? WHERE id = ?", arguments: [name, name, externalID, id])
            try db.execute(sql: "DELETE FROM group_members WHERE group_id = ?", arguments: [id])
            try Self.setMembers(db, groupID: id, members: members)
            let after = try Self.requireGroup(db, id: id)
            try Self.appendAudit(db, AuditEvent(audit, action: .groupProvisioned, target: name, before: StoreCoding.members(before), after: StoreCoding.members(after)))
            return after
        }
    }

    public func changeGroupMembers(id: String, adding: [String], removing: [String], audit: AuditContext) async throws -> ProvisionedGroup? {
        try await write("change group members") { db in
            guard let before = try Self.provisionedGroup(db, id: id) else { return nil }
            for member in removing {
                try db.execute(sql: "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", arguments: [id, member])
            }
            try Self.setMembers(db, groupID: id, members: adding)
            let after = try Self.requireGroup(db, id: id)
            try Self.appendAudit(db, AuditEvent(
                audit, action: .groupProvisioned, target: after.group.name, before: StoreCoding.members(before), after: StoreCoding.members(after)
            ))
            return after
        }
    }

    public func deleteProvisionedGroup(id: String, audit: AuditContext) async throws -> Bool {
        try await write("delete provisioned group") { db in
            guard let before = try Self.provisionedGroup(db, id: id) else { return false }
            try db.execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id])
            try Self.appendAudit(db, AuditEvent(
                audit, action: .groupDeprovisioned, target: before.group.name, before: StoreCoding.members(before), after: nil
            ))
            return true
        }
    }

    public func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try await read("read group") { db in try Self.provisionedGroup(db, id: id) }
    }

    public func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try await read("list groups") { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM groups") ?? 0
            let ids = try String.fetchAll(db, sql: "SELECT id FROM groups ORDER BY name LIMIT ? OFFSET ?", arguments: [max(0, limit), max(0, offset)])
            return (try ids.compactMap { try Self.provisionedGroup(db, id: $0) }, total)
        }
    }

    static func setMembers(_ db: Database, groupID: String, members: [String]) throws {
        for member in Set(members) {
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members (group_id, user_id) SELECT ?, id FROM users WHERE id = ?",
                arguments: [groupID, member]
            )
        }
    }

    static func provisionedGroup(_ db: Database, id: String) throws -> ProvisionedGroup? {
        guard let row = try Row.fetchOne(
            db,
            sql: "SELECT \(SQLiteRows.groupColumns) FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.id = ?",
            arguments: [id]
        ) else { return nil }
        let members = try Row.fetchAll(
            db,
            sql: "SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.email_key",
            arguments: [id]
        ).map(SQLiteRows.user)
        return ProvisionedGroup(group: SQLiteRows.group(row), members: members)
    }

    static func requireGroup(_ db: Database, id: String) throws -> ProvisionedGroup {
        guard let group = try provisionedGroup(db, id: id) else { throw StoreError(operation: "read group", reason: "the group vanished") }
        return group
    }
}
