import Foundation
import PortcullisCore

extension SQLStore: ProvisioningStore {
    package func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try await lockedWrite("provision user") { connection in
            guard try await Self.emailAvailable(connection, user.email, except: nil) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            let id = UUID().uuidString.lowercased()
            try await connection.execute(
                """
                INSERT INTO users (id, email, email_key, name, department, active, external_id, scim_document, version, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)
                """,
                [id, user.email, StoreCoding.emailKey(user.email), user.name, user.department, user.active,
                 user.externalID, StoreCoding.documentText(user.document), StoreCoding.seconds(audit.at)]
            )
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .userProvisioned, target: user.email, before: nil, after: StoreCoding.provisioned(user)
            ))
            return try await Self.requireUser(connection, id: id)
        }
    }

    package func updateProvisionedUser(
        id: String, _ user: ProvisionedUser, expectedVersion: Int?, audit: AuditContext
    ) async throws -> (UserRecord, DeprovisioningOutcome)? {
        let sources = countedSources
        return try await lockedWrite("update provisioned user") { connection in
            guard let before = try await connection.first("SELECT * FROM users WHERE id = $1", [id], StoreRows.user) else { return nil }
            try Self.require(version: expectedVersion, of: before.version)
            try await Self.checkUserChange(
                connection, id: id, deactivates: !user.active,
                renames: StoreCoding.emailKey(user.email) != StoreCoding.emailKey(before.email), sources: sources
            )
            guard try await Self.emailAvailable(connection, user.email, except: id) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            try await connection.execute(
                """
                UPDATE users SET email = $1, email_key = $2, name = $3, department = $4, active = $5, external_id = $6,
                    scim_document = $7, version = version + 1, updated_at = $8 WHERE id = $9
                """,
                [user.email, StoreCoding.emailKey(user.email), user.name, user.department, user.active, user.externalID,
                 StoreCoding.documentText(user.document), StoreCoding.seconds(audit.at), id]
            )
            var outcome = DeprovisioningOutcome.none
            if !user.active {
                outcome = try await Self.endEverything(
                    connection, userID: id, at: audit.at, by: audit.actor, reason: "deactivated by the identity provider"
                )
            }
            let action: AuditAction = before.active && !user.active ? .userDeprovisioned : .userProvisioned
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: action, target: user.email,
                before: StoreCoding.provisioned(ProvisionedUser(
                    email: before.email, name: before.name, department: before.department, active: before.active, externalID: before.externalID
                )),
                after: StoreCoding.provisioned(user, outcome: outcome)
            ))
            try await connection.announce(user.active ? .policyChanged : .sessionsRevoked(sessions: outcome.revokedSessions, users: [id]))
            return (try await Self.requireUser(connection, id: id), outcome)
        }
    }

    package func deleteProvisionedUser(id: String, expectedVersion: Int?, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        let sources = countedSources
        return try await lockedWrite("delete provisioned user") { connection in
            guard let user = try await connection.first("SELECT * FROM users WHERE id = $1", [id], StoreRows.user) else { return nil }
            try Self.require(version: expectedVersion, of: user.version)
            try await Self.checkUserChange(connection, id: id, deactivates: true, renames: false, sources: sources)
            let outcome = try await Self.endEverything(
                connection, userID: id, at: audit.at, by: audit.actor, reason: "deleted by the identity provider"
            )
            try await connection.execute("DELETE FROM users WHERE id = $1", [id])
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .userDeprovisioned, target: user.email, before: StoreCoding.jsonValue(user.directRoles),
                after: .object([
                    "deleted": .bool(true), "revoked_sessions": .number(Double(outcome.revokedSessions.count)),
                    "revoked_tokens": .number(Double(outcome.revokedTokens)),
                ])
            ))
            try await connection.announce(.sessionsRevoked(sessions: outcome.revokedSessions, users: [id]))
            return outcome
        }
    }

    /// Compare-and-set: throws ``StoreVersionConflict`` unless the record is at `expected` (`nil`
    /// accepts any).
    static func require(version expected: Int?, of current: Int) throws {
        if let expected, expected != current { throw StoreVersionConflict(expected: expected, current: current) }
    }

    /// The role rules for SCIM changing a user itself, decided inside the writing transaction
    /// (under the write lock).
    static func checkUserChange(
        _ connection: some StoreConnection, id: String, deactivates: Bool, renames: Bool, sources: (String, String)
    ) async throws {
        guard deactivates || renames, let identity = try await userIdentity(connection, id: id, sources: sources) else { return }
        if let refusal = RoleChangeSafety.changeProvisionedUser(
            identity, deactivates: deactivates, renames: renames, holders: try await roleHolders(connection, sources: sources)
        ) {
            throw refusal
        }
    }

    /// Revokes every session and API token of a user, refuses earlier bearer JWTs and forgets
    /// the refresh token.
    static func endEverything(
        _ connection: some StoreConnection, userID: String, at: Date, by actor: String, reason: String
    ) async throws -> DeprovisioningOutcome {
        let seconds = StoreCoding.seconds(at)
        try await connection.execute("UPDATE users SET not_before = $1 WHERE id = $2", [seconds, userID])
        let sessions = try await revokeSessions(connection, userID: userID, at: at, by: actor, reason: reason)
        let tokens = try await revokeAPITokens(connection, ownerID: userID, at: seconds)
        try await connection.execute("DELETE FROM refresh_tokens WHERE user_id = $1", [userID])
        return DeprovisioningOutcome(revokedSessions: sessions, revokedTokens: tokens)
    }

    package func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int) {
        try await read("list users") { connection in
            let total = try await connection.scalar("SELECT COUNT(*) FROM users", as: Int.self) ?? 0
            let users = try await connection.all(
                "SELECT * FROM users ORDER BY email_key LIMIT $1 OFFSET $2", [max(0, limit), max(0, offset)], StoreRows.user
            )
            return (users, total)
        }
    }

    // MARK: groups

    package func provisionGroup(_ draft: GroupDraft, audit: AuditContext) async throws -> ProvisionedGroup {
        try await lockedWrite("provision group") { connection in
            try await Self.requireUsers(connection, draft.members)
            let at = StoreCoding.seconds(audit.at)
            let id: String
            let before: ProvisionedGroup?
            if let existing = try await connection.first("SELECT id, provisioned FROM groups WHERE name = $1", [draft.name]) {
                let provisioned: Bool = try existing["provisioned"]
                guard !provisioned else { throw StoreConflict("a group with displayName \(draft.name) exists") }
                // Adopted: a group a role mapping or a sign-in named before SCIM brought it.
                id = try existing["id"]
                before = try await Self.anyGroup(connection, id: id)
                try await connection.execute(
                    """
                    UPDATE groups SET provisioned = \(.true), external_id = $1, description = $2, version = version + 1, updated_at = $3
                    WHERE id = $4
                    """,
                    [draft.externalID, draft.description, at, id]
                )
                try await connection.execute("DELETE FROM group_members WHERE group_id = $1 AND source = 'scim'", [id])
            } else {
                id = UUID().uuidString.lowercased()
                before = nil
                try await connection.execute(
                    """
                    INSERT INTO groups (id, name, display_name, external_id, description, provisioned, version, created_at, updated_at)
                    VALUES ($1, $2, $2, $3, $4, \(.true), 1, $5, $5)
                    """,
                    [id, draft.name, draft.externalID, draft.description, at]
                )
            }
            try await Self.addMembers(connection, groupID: id, members: draft.members)
            let group = try await Self.requireGroup(connection, id: id)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: before.map(StoreCoding.members), after: StoreCoding.members(group)
            ))
            try await connection.announce(.policyChanged)
            return group
        }
    }

    package func updateProvisionedGroup(
        id: String, _ draft: GroupDraft, expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<ProvisionedGroup, RoleChangeRefusal>? {
        let sources = countedSources
        return try await lockedWrite("update provisioned group") { connection in
            guard let before = try await Self.provisionedGroup(connection, id: id) else { return nil }
            try Self.require(version: expectedVersion, of: before.group.version)
            if try await connection.exists("SELECT 1 FROM groups WHERE name = $1 AND id != $2", [draft.name, id]) {
                throw StoreConflict("a group with displayName \(draft.name) exists")
            }
            try await Self.requireUsers(connection, draft.members)
            let current = Set(before.members.map(\.id))
            let wanted = Set(draft.members)
            let leaving = current.subtracting(wanted)
            let state = MembershipChangeState(
                group: before.group, losing: try await Self.losing(connection, users: leaving, sources: sources),
                holders: try await Self.roleHolders(connection, sources: sources), groupDeleted: false
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try await connection.execute(
                """
                UPDATE groups SET name = $1, display_name = $1, external_id = $2, description = $3, version = version + 1, updated_at = $4
                WHERE id = $5
                """,
                [draft.name, draft.externalID, draft.description, StoreCoding.seconds(audit.at), id]
            )
            if !leaving.isEmpty {
                try await connection.execute(
                    "DELETE FROM group_members WHERE group_id = $1 AND source = 'scim' AND \(.isAnyOf(column: "user_id", parameter: 2))",
                    [id, leaving.sorted()]
                )
            }
            try await Self.addMembers(connection, groupID: id, members: Array(wanted.subtracting(current)))
            let after = try await Self.requireGroup(connection, id: id)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: StoreCoding.members(before), after: StoreCoding.members(after)
            ))
            try await connection.announce(.policyChanged)
            return .success(after)
        }
    }

    package func deleteProvisionedGroup(
        id: String, expectedVersion: Int?, audit: AuditContext, decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<Void, RoleChangeRefusal>? {
        let sources = countedSources
        return try await lockedWrite("delete provisioned group") { connection in
            guard let before = try await Self.provisionedGroup(connection, id: id) else { return nil }
            try Self.require(version: expectedVersion, of: before.group.version)
            let others = try await connection.exists("SELECT 1 FROM group_members WHERE group_id = $1 AND source != 'scim'", [id])
            let keep = before.group.isMapped || others
            let state = MembershipChangeState(
                group: before.group,
                losing: try await Self.losing(connection, users: Set(before.members.map(\.id)), sources: sources),
                holders: try await Self.roleHolders(connection, sources: sources), groupDeleted: !keep
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try await connection.execute("DELETE FROM group_members WHERE group_id = $1 AND source = 'scim'", [id])
            if keep {
                try await connection.execute(
                    "UPDATE groups SET provisioned = \(.false), external_id = NULL, version = version + 1, updated_at = $1 WHERE id = $2",
                    [StoreCoding.seconds(audit.at), id]
                )
            } else {
                try await connection.execute("DELETE FROM groups WHERE id = $1", [id])
            }
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .groupDeprovisioned, target: before.group.name, before: StoreCoding.members(before),
                after: keep ? .object(["kept_for": .string(before.group.isMapped ? "role mapping" : "sign-in memberships")]) : nil
            ))
            try await connection.announce(.policyChanged)
            return .success(())
        }
    }

    /// `users` (leaving the group's SCIM membership) as they are now. Each loses the group's
    /// `scim` mapping even when the groups claim names the group too: that membership carries
    /// only the `oidc` mapping.
    static func losing(
        _ connection: some StoreConnection, users: Set<String>, sources: (String, String)
    ) async throws -> [UserIdentity] {
        var result: [UserIdentity] = []
        for userID in users.sorted() {
            if let identity = try await userIdentity(connection, id: userID, sources: sources) { result.append(identity) }
        }
        return result
    }

    package func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try await read("read group") { connection in try await Self.provisionedGroup(connection, id: id) }
    }

    package func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try await read("list groups") { connection in
            let total = try await connection.scalar("SELECT COUNT(*) FROM groups WHERE provisioned = \(.true)", as: Int.self) ?? 0
            let ids = try await connection.all(
                "SELECT id FROM groups WHERE provisioned = \(.true) ORDER BY name LIMIT $1 OFFSET $2", [max(0, limit), max(0, offset)]
            ) { row -> String in try row["id"] }
            var groups: [ProvisionedGroup] = []
            for id in ids {
                if let group = try await Self.provisionedGroup(connection, id: id) { groups.append(group) }
            }
            return (groups, total)
        }
    }

    /// Throws ``StoreUnknownReferences`` for ids that are not users.
    static func requireUsers(_ connection: some StoreConnection, _ ids: [String]) async throws {
        let wanted = Set(ids)
        guard !wanted.isEmpty else { return }
        let known = Set(try await connection.all(
            "SELECT id FROM users WHERE \(.isAnyOf(column: "id", parameter: 1))", [wanted.sorted()]
        ) { row -> String in try row["id"] })
        let unknown = wanted.subtracting(known).sorted()
        if !unknown.isEmpty { throw StoreUnknownReferences(unknown) }
    }

    static func addMembers(_ connection: some StoreConnection, groupID: String, members: [String]) async throws {
        guard !members.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO group_members (group_id, user_id, source) SELECT $1, id, 'scim' FROM users WHERE \(.isAnyOf(column: "id", parameter: 2))
            ON CONFLICT DO NOTHING
            """,
            [groupID, Set(members).sorted()]
        )
    }

    /// A group SCIM manages, with its SCIM members.
    static func provisionedGroup(_ connection: some StoreConnection, id: String) async throws -> ProvisionedGroup? {
        guard let group = try await anyGroup(connection, id: id), group.group.provisioned else { return nil }
        return group
    }

    static func anyGroup(_ connection: some StoreConnection, id: String) async throws -> ProvisionedGroup? {
        guard let group = try StoreRows.groups(try await connection.rows(
            "SELECT \(StoreRows.groupColumns) FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.id = $1", [id]
        )).first else { return nil }
        let members = try await connection.all(
            """
            SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 AND m.source = 'scim'
            ORDER BY u.email_key
            """,
            [id], StoreRows.user
        )
        return ProvisionedGroup(group: group, members: members)
    }

    static func requireGroup(_ connection: some StoreConnection, id: String) async throws -> ProvisionedGroup {
        guard let group = try await anyGroup(connection, id: id) else { throw StoreError(operation: "read group", reason: "the group vanished") }
        return group
    }
}
