import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: ProvisioningStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try await write("provision user") { connection in
            try await lock(connection)
            guard try await emailAvailable(connection, user.email, except: nil) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            let id = UUID().uuidString.lowercased()
            let at = StoreCoding.seconds(audit.at)
            try await connection.query(
                """
                INSERT INTO users (id, email, email_key, name, department, active, external_id, scim_document, version, created_at, updated_at)
                VALUES (\(id), \(user.email), \(StoreCoding.emailKey(user.email)), \(user.name), \(user.department), \(user.active),
                        \(user.externalID), \(StoreCoding.documentText(user.document)), 1, \(at), \(at))
                """,
                logger: logger
            )
            try await appendAudit(connection, AuditEvent(audit, action: .userProvisioned, target: user.email, before: nil, after: StoreCoding.provisioned(user)))
            return try await requireUser(connection, id: id)
        }
    }

    public func updateProvisionedUser(
        id: String, _ user: ProvisionedUser, expectedVersion: Int?, audit: AuditContext
    ) async throws -> (UserRecord, DeprovisioningOutcome)? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("update provisioned user") { connection in
            try await lock(connection)
            guard let before = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else { return nil }
            if let expectedVersion, expectedVersion != before.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.version)
            }
            try await checkUserChange(connection, id: id, deactivates: !user.active,
                                      renames: StoreCoding.emailKey(user.email) != StoreCoding.emailKey(before.email), policy: policy)
            guard try await emailAvailable(connection, user.email, except: id) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            try await connection.query(
                """
                UPDATE users SET email = \(user.email), email_key = \(StoreCoding.emailKey(user.email)), name = \(user.name),
                    department = \(user.department), active = \(user.active), external_id = \(user.externalID),
                    scim_document = \(StoreCoding.documentText(user.document)), version = version + 1,
                    updated_at = \(StoreCoding.seconds(audit.at)) WHERE id = \(id)
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

    public func deleteProvisionedUser(id: String, expectedVersion: Int?, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("delete provisioned user") { connection in
            try await lock(connection)
            guard let user = try await connection.first("SELECT * FROM users WHERE id = \(id)", logger: logger, PostgresRows.user) else { return nil }
            if let expectedVersion, expectedVersion != user.version {
                throw StoreVersionConflict(expected: expectedVersion, current: user.version)
            }
            try await checkUserChange(connection, id: id, deactivates: true, renames: false, policy: policy)
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

    /// The role rules for SCIM changing a user itself, decided inside the writing transaction
    /// (under the write lock).
    func checkUserChange(_ connection: PostgresConnection, id: String, deactivates: Bool, renames: Bool, policy: GroupSourcePolicy) async throws {
        guard deactivates || renames, let identity = try await userIdentity(connection, id: id, policy: policy) else { return }
        if let refusal = RoleChangeSafety.changeProvisionedUser(
            identity, deactivates: deactivates, renames: renames, holders: try await roleHolders(connection)
        ) {
            throw refusal
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
        try await connection.query("DELETE FROM refresh_tokens WHERE user_id = \(userID)", logger: logger)
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

    // MARK: groups

    public func provisionGroup(_ draft: GroupDraft, audit: AuditContext) async throws -> ProvisionedGroup {
        try await write("provision group") { connection in
            try await lock(connection)
            try await requireUsers(connection, draft.members)
            let at = StoreCoding.seconds(audit.at)
            let id: String
            let before: ProvisionedGroup?
            if let (existing, provisioned) = try await connection.first(
                "SELECT id, provisioned FROM groups WHERE name = \(draft.name)", logger: logger, { try $0.decode((String, Bool).self) }
            ) {
                guard !provisioned else { throw StoreConflict("a group with displayName \(draft.name) exists") }
                // Adopted: a group a role mapping or a sign-in named before SCIM brought it.
                id = existing
                before = try await anyGroup(connection, id: id)
                try await connection.query(
                    """
                    UPDATE groups SET provisioned = TRUE, external_id = \(draft.externalID), description = \(draft.description),
                        version = version + 1, updated_at = \(at) WHERE id = \(id)
                    """,
                    logger: logger
                )
                try await connection.query("DELETE FROM group_members WHERE group_id = \(id) AND source = 'scim'", logger: logger)
            } else {
                id = UUID().uuidString.lowercased()
                before = nil
                try await connection.query(
                    """
                    INSERT INTO groups (id, name, display_name, external_id, description, provisioned, version, created_at, updated_at)
                    VALUES (\(id), \(draft.name), \(draft.name), \(draft.externalID), \(draft.description), TRUE, 1, \(at), \(at))
                    """,
                    logger: logger
                )
            }
            try await addMembers(connection, groupID: id, members: draft.members)
            let group = try await requireGroup(connection, id: id)
            try await appendAudit(connection, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: before.map(StoreCoding.members), after: StoreCoding.members(group)
            ))
            try await notify(.policyChanged, on: connection)
            return group
        }
    }

    public func updateProvisionedGroup(
        id: String, _ draft: GroupDraft, expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<ProvisionedGroup, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("update provisioned group") { connection in
            try await lock(connection)
            guard let before = try await provisionedGroup(connection, id: id) else { return nil }
            if let expectedVersion, expectedVersion != before.group.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.group.version)
            }
            if try await connection.count("SELECT 1 FROM groups WHERE name = \(draft.name) AND id != \(id)", logger: logger) > 0 {
                throw StoreConflict("a group with displayName \(draft.name) exists")
            }
            try await requireUsers(connection, draft.members)
            let current = Set(before.members.map(\.id))
            let wanted = Set(draft.members)
            let leaving = current.subtracting(wanted)
            let state = MembershipChangeState(
                group: before.group, losing: try await losing(connection, groupID: id, users: leaving, policy: policy),
                holders: try await roleHolders(connection), groupDeleted: false
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try await connection.query(
                """
                UPDATE groups SET name = \(draft.name), display_name = \(draft.name), external_id = \(draft.externalID),
                    description = \(draft.description), version = version + 1, updated_at = \(StoreCoding.seconds(audit.at)) WHERE id = \(id)
                """,
                logger: logger
            )
            if !leaving.isEmpty {
                try await connection.query(
                    "DELETE FROM group_members WHERE group_id = \(id) AND source = 'scim' AND user_id = ANY(\(Array(leaving)))", logger: logger
                )
            }
            try await addMembers(connection, groupID: id, members: Array(wanted.subtracting(current)))
            let after = try await requireGroup(connection, id: id)
            try await appendAudit(connection, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: StoreCoding.members(before), after: StoreCoding.members(after)
            ))
            try await notify(.policyChanged, on: connection)
            return .success(after)
        }
    }

    public func deleteProvisionedGroup(
        id: String, expectedVersion: Int?, audit: AuditContext, decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<Void, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("delete provisioned group") { connection in
            try await lock(connection)
            guard let before = try await provisionedGroup(connection, id: id) else { return nil }
            if let expectedVersion, expectedVersion != before.group.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.group.version)
            }
            let others = try await connection.count("SELECT 1 FROM group_members WHERE group_id = \(id) AND source != 'scim'", logger: logger)
            let keep = before.group.roles != nil || others > 0
            let state = MembershipChangeState(
                group: before.group, losing: try await losing(connection, groupID: id, users: Set(before.members.map(\.id)), policy: policy),
                holders: try await roleHolders(connection), groupDeleted: !keep
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try await connection.query("DELETE FROM group_members WHERE group_id = \(id) AND source = 'scim'", logger: logger)
            if keep {
                try await connection.query(
                    """
                    UPDATE groups SET provisioned = FALSE, external_id = NULL, version = version + 1,
                        updated_at = \(StoreCoding.seconds(audit.at)) WHERE id = \(id)
                    """,
                    logger: logger
                )
            } else {
                try await connection.query("DELETE FROM groups WHERE id = \(id)", logger: logger)
            }
            try await appendAudit(connection, AuditEvent(
                audit, action: .groupDeprovisioned, target: before.group.name, before: StoreCoding.members(before),
                after: keep ? .object(["kept_for": .string(before.group.roles != nil ? "role mapping" : "sign-in memberships")]) : nil
            ))
            try await notify(.policyChanged, on: connection)
            return .success(())
        }
    }

    /// Of `users` (leaving the group's SCIM membership), those who will not be members through
    /// another source, as they are now.
    func losing(_ connection: PostgresConnection, groupID: String, users: Set<String>, policy: GroupSourcePolicy) async throws -> [UserIdentity] {
        var result: [UserIdentity] = []
        for userID in users.sorted() {
            let stays = try await connection.count(
                """
                SELECT 1 FROM group_members WHERE group_id = \(groupID) AND user_id = \(userID) AND source != 'scim'
                    AND source IN \(unescaped: StoreCoding.sourceList(policy))
                """,
                logger: logger
            ) > 0
            if !stays, let identity = try await userIdentity(connection, id: userID, policy: policy) { result.append(identity) }
        }
        return result
    }

    public func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try await read("read group") { connection in try await provisionedGroup(connection, id: id) }
    }

    public func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try await read("list groups") { connection in
            let total = Int(try await connection.scalar("SELECT COUNT(*) FROM groups WHERE provisioned", as: Int64.self, logger: logger) ?? 0)
            let ids = try await connection.all(
                "SELECT id FROM groups WHERE provisioned ORDER BY name LIMIT \(max(0, limit)) OFFSET \(max(0, offset))", logger: logger
            ) { try $0.decode(String.self) }
            var groups: [ProvisionedGroup] = []
            for id in ids {
                if let group = try await provisionedGroup(connection, id: id) { groups.append(group) }
            }
            return (groups, total)
        }
    }

    /// Throws ``StoreUnknownReferences`` for ids that are not users.
    func requireUsers(_ connection: PostgresConnection, _ ids: [String]) async throws {
        let wanted = Set(ids)
        guard !wanted.isEmpty else { return }
        let known = Set(try await connection.all("SELECT id FROM users WHERE id = ANY(\(Array(wanted)))", logger: logger) { try $0.decode(String.self) })
        let unknown = wanted.subtracting(known).sorted()
        if !unknown.isEmpty { throw StoreUnknownReferences(unknown) }
    }

    func addMembers(_ connection: PostgresConnection, groupID: String, members: [String]) async throws {
        guard !members.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO group_members (group_id, user_id, source) SELECT \(groupID), id, 'scim' FROM users WHERE id = ANY(\(Array(Set(members))))
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
    }

    func provisionedGroup(_ connection: PostgresConnection, id: String) async throws -> ProvisionedGroup? {
        guard let group = try await anyGroup(connection, id: id), group.group.provisioned else { return nil }
        return group
    }

    func anyGroup(_ connection: PostgresConnection, id: String) async throws -> ProvisionedGroup? {
        guard let group = try await connection.first(
            "SELECT \(unescaped: PostgresRows.groupColumns) FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.id = \(id)",
            logger: logger, PostgresRows.group
        ) else { return nil }
        let members = try await connection.all(
            """
            SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = \(id) AND m.source = 'scim'
            ORDER BY u.email_key
            """,
            logger: logger, PostgresRows.user
        )
        return ProvisionedGroup(group: group, members: members)
    }

    func requireGroup(_ connection: PostgresConnection, id: String) async throws -> ProvisionedGroup {
        guard let group = try await anyGroup(connection, id: id) else { throw StoreError(operation: "read group", reason: "the group vanished") }
        return group
    }
}

extension PostgresStore: IdentityGrantStore {
    public func saveRefreshToken(userID: String, sealed: [UInt8], at: Date) async throws {
        try await write("save refresh token") { connection in
            _ = try await connection.query(
                """
                INSERT INTO refresh_tokens (user_id, sealed, refreshed_at) VALUES (\(userID), \(Data(sealed)), \(StoreCoding.seconds(at)))
                ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, refreshed_at = excluded.refreshed_at
                """,
                logger: logger
            )
        }
    }

    public func refreshToken(userID: String) async throws -> StoredRefreshToken? {
        try await read("read refresh token") { connection in
            try await connection.first("SELECT * FROM refresh_tokens WHERE user_id = \(userID)", logger: logger, Self.refreshToken)
        }
    }

    public func refreshTokensDue(refreshedBefore: Date, now: Date, limit: Int) async throws -> [StoredRefreshToken] {
        try await read("read refresh tokens due") { connection in
            try await connection.all(
                """
                SELECT t.* FROM refresh_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.refreshed_at < \(StoreCoding.seconds(refreshedBefore)) AND u.active AND EXISTS (
                    SELECT 1 FROM sessions s WHERE s.user_id = t.user_id AND s.revoked_at IS NULL
                        AND s.absolute_expires_at > \(StoreCoding.seconds(now)))
                ORDER BY t.refreshed_at LIMIT \(max(0, limit))
                """,
                logger: logger, Self.refreshToken
            )
        }
    }

    public func deleteRefreshToken(userID: String) async throws {
        try await write("delete refresh token") { connection in
            _ = try await connection.query("DELETE FROM refresh_tokens WHERE user_id = \(userID)", logger: logger)
        }
    }

    static func refreshToken(_ row: PostgresRow) throws -> StoredRefreshToken {
        let r = row.makeRandomAccess()
        return StoredRefreshToken(
            userID: try r["user_id"].decode(String.self), sealed: Array(try r["sealed"].decode(Data.self)),
            refreshedAt: StoreCoding.date(try r["refreshed_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0)
        )
    }
}
