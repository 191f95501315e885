import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: ProvisioningStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try await write("provision user") { connection in
            try await lock(connection)
            let key = StoreCoding.emailKey(user.email)
            if try await connection.count("SELECT 1 FROM users WHERE email_key = \(key)", logger: logger) > 0 {
                throw StoreConflict("a user with userName \(user.email) exists")
            }
            let id = UUID().uuidString.lowercased()
            try await connection.query(
                """
                INSERT INTO users (id, email, email_key, name, department, active, external_id, created_at)
                VALUES (\(id), \(user.email), \(key), \(user.name), \(user.department), \(user.active), \(user.externalID),
                        \(StoreCoding.seconds(audit.at)))
                """,
                logger: logger
            )
            try await appendAudit(connection, AuditEvent(audit, action: .userProvisioned, target: user.email, before: nil, after: StoreCoding.provisioned(user)))
            return try await requireUser(connection, id: id)
        }
    }

    public func updateProvisionedUser(id: String, _ user: ProvisionedUser, audit: AuditContext) async throws -> (UserRecord, DeprovisioningOutcome)? {
        try await write("update provisioned user") { connection in
            try await lock(connection)
            guard let before = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else { return nil }
            let key = StoreCoding.emailKey(user.email)
            if try await connection.count("SELECT 1 FROM users WHERE email_key = \(key) AND id != \(id)", logger: logger) > 0 {
                throw StoreConflict("a user with userName \(user.email) exists")
            }
            try await connection.query(
                """
                UPDATE users SET email = \(user.email), email_key = \(key), name = \(user.name), department = \(user.department),
                    active = \(user.active), external_id = \(user.externalID) WHERE id = \(id)
                """,
                logger: logger
            )
            var outcome = DeprovisioningOutcome.none
            if !user.active {
                outcome = try await endEverything(connection, userID: id, at: audit.at, by: audit.actor, reason: "deactivated by the identity provider")
            }
            let action: AuditAction = before.active && !user.active ? .userDeprovisioned : .userProvisioned
            try await appendAudit(connection, AuditEvent(
                audit, action: action, target: user.email,
                before: StoreCoding.provisioned(ProvisionedUser(email: before.email, name: before.name, department: before.department,
                                                                active: before.active, externalID: before.externalID)),
                after: StoreCoding.provisioned(user, outcome: outcome)
            ))
            try await notify(user.active ? .policyChanged : .sessionsRevoked(sessions: outcome.revokedSessions, users: [id]), on: connection)
            return (try await requireUser(connection, id: id), outcome)
        }
    }

    public func deleteProvisionedUser(id: String, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        try await write("delete provisioned user") { connection in
            try await lock(connection)
            guard let user = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else { return nil }
            let outcome = try await endEverything(connection, userID: id, at: audit.at, by: audit.actor, reason: "deleted by the identity provider")
            try await connection.query("DELETE FROM users WHERE id = \(id)", logger: logger)
            try await appendAudit(connection, AuditEvent(
                audit, action: .userDeprovisioned, target: user.email, before: StoreCoding.jsonValue(user.directRoles),
                after: .object(["deleted": .bool(true), "revoked_sessions": .number(Double(outcome.revokedSessions.count)),
                                "revoked_tokens": .number(Double(outcome.revokedTokens))])
            ))
            try await notify(.sessionsRevoked(sessions: outcome.revokedSessions, users: [id]), on: connection)
            return outcome
        }
    }

    func endEverything(_ connection: PostgresConnection, userID: String, at: Date, by actor: String, reason: String) async throws -> DeprovisioningOutcome {
        let seconds = StoreCoding.seconds(at)
        try await connection.query("UPDATE users SET not_before = \(seconds) WHERE id = \(userID)", logger: logger)
        let sessions = try await connection.all(
            """
            UPDATE sessions SET revoked_at = \(seconds), revoked_by = \(actor), revoked_reason = \(reason)
            WHERE user_id = \(userID) AND revoked_at IS NULL RETURNING id_hash
            """,
            logger: logger
        ) { SessionIDHash(bytes: Array(try $0.decode(Data.self))) }
        let tokens = try await connection.count(
            "UPDATE api_tokens SET revoked_at = \(seconds) WHERE owner_id = \(userID) AND revoked_at IS NULL RETURNING 1", logger: logger
        )
        return DeprovisioningOutcome(revokedSessions: sessions, revokedTokens: tokens)
    }

    func requireUser(_ connection: PostgresConnection, id: String) async throws -> UserRecord {
        guard let user = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else {
            throw StoreError(operation: "read user", reason: "the user vanished")
        }
        return user
    }

    public func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int) {
        try await read("list users") { connection in
            let total = Int(try await connection.scalar("SELECT COUNT(*) FROM users", as: Int64.self, logger: logger) ?? 0)
            let users = try await connection.all(
                "SELECT * FROM users ORDER BY email_key LIMIT \(max(0, limit)) OFFSET \(max(0, offset))", logger: logger, PostgresRows.user
            )
            return (users, total)
        }
    }

    public func provisionGroup(name: String, externalID: String?, members: [String], audit: AuditContext) async throws -> ProvisionedGroup {
        try await write("provision group") { connection in
            try await lock(connection)
            if try await connection.count("SELECT 1 FROM groups WHERE name = \(name)", logger: logger) > 0 {
                throw StoreConflict("a group with displayName \(name) exists")
            }
            let id = UUID().uuidString.lowercased()
            try await connection.query(
                """
                INSERT INTO groups (id, name, display_name, external_id, created_at)
                VALUES (\(id), \(name), \(name), \(externalID), \(StoreCoding.seconds(audit.at)))
                """,
                logger: logger
            )
            try await setMembers(connection, groupID: id, members: members)
            let group = try await requireGroup(connection, id: id)
            try await appendAudit(connection, AuditEvent(audit, action: .groupProvisioned, target: name, before: nil, after: StoreCoding.members(group)))
            try await notify(.policyChanged, on: connection)
            return group
        }
    }

    public func replaceProvisionedGroup(
        id: String, name: String, externalID: String?, members: [String], audit: AuditContext
    ) async throws -> ProvisionedGroup? {
        try await write("replace provisioned group") { connection in
            try await lock(connection)
            guard let before = try await provisionedGroup(connection, id: id) else { return nil }
            if try await connection.count("SELECT 1 FROM groups WHERE name = \(name) AND id != \(id)", logger: logger) > 0 {
                throw StoreConflict("a group with displayName \(name) exists")
            }
            try await connection.query(
                "UPDATE groups SET name = \(name), display_name = \(name), external_id = \(externalID) WHERE id = \(id)", logger: logger
            )
            try await connection.query("DELETE FROM group_members WHERE group_id = \(id)", logger: logger)
            try await setMembers(connection, groupID: id, members: members)
            let after = try await requireGroup(connection, id: id)
            try await appendAudit(connection, AuditEvent(audit, action: .groupProvisioned, target: name, before: StoreCoding.members(before), after: StoreCoding.members(after)))
            try await notify(.policyChanged, on: connection)
            return after
        }
    }

    public func changeGroupMembers(id: String, adding: [String], removing: [String], audit: AuditContext) async throws -> ProvisionedGroup? {
        try await write("change group members") { connection in
            try await lock(connection)
            guard let before = try await provisionedGroup(connection, id: id) else { return nil }
            if !removing.isEmpty {
                try await connection.query("DELETE FROM group_members WHERE group_id = \(id) AND user_id = ANY(\(removing))", logger: logger)
            }
            try await setMembers(connection, groupID: id, members: adding)
            let after = try await requireGroup(connection, id: id)
            try await appendAudit(connection, AuditEvent(
                audit, action: .groupProvisioned, target: after.group.name, before: StoreCoding.members(before), after: StoreCoding.members(after)
            ))
            try await notify(.policyChanged, on: connection)
            return after
        }
    }

    public func deleteProvisionedGroup(id: String, audit: AuditContext) async throws -> Bool {
        try await write("delete provisioned group") { connection in
            try await lock(connection)
            guard let before = try await provisionedGroup(connection, id: id) else { return false }
            try await connection.query("DELETE FROM groups WHERE id = \(id)", logger: logger)
            try await appendAudit(connection, AuditEvent(audit, action: .groupDeprovisioned, target: before.group.name, before: StoreCoding.members(before), after: nil))
            try await notify(.policyChanged, on: connection)
            return true
        }
    }

    public func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try await read("read group") { connection in try await provisionedGroup(connection, id: id) }
    }

    public func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try await read("list groups") { connection in
            let total = Int(try await connection.scalar("SELECT COUNT(*) FROM groups", as: Int64.self, logger: logger) ?? 0)
            let ids = try await connection.all(
                "SELECT id FROM groups ORDER BY name LIMIT \(max(0, limit)) OFFSET \(max(0, offset))", logger: logger
            ) { try $0.decode(String.self) }
            var groups: [ProvisionedGroup] = []
            for id in ids {
                if let group = try await provisionedGroup(connection, id: id) { groups.append(group) }
            }
            return (groups, total)
        }
    }

    func setMembers(_ connection: PostgresConnection, groupID: String, members: [String]) async throws {
        guard !members.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO group_members (group_id, user_id) SELECT \(groupID), id FROM users WHERE id = ANY(\(Array(Set(members))))
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
    }

    func provisionedGroup(_ connection: PostgresConnection, id: String) async throws -> ProvisionedGroup? {
        guard let group = try await connection.first(
            "SELECT \(unescaped: PostgresRows.groupColumns) FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.id = \(id)",
            logger: logger, PostgresRows.group
        ) else { return nil }
        let members = try await connection.all(
            "SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = \(id) ORDER BY u.email_key",
            logger: logger, PostgresRows.user
        )
        return ProvisionedGroup(group: group, members: members)
    }

    func requireGroup(_ connection: PostgresConnection, id: String) async throws -> ProvisionedGroup {
        guard let group = try await provisionedGroup(connection, id: id) else { throw StoreError(operation: "read group", reason: "the group vanished") }
        return group
    }
}
