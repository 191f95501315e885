import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: ProvisioningStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try await write("provision user") { db in
            guard try Self.emailAvailable(db, user.email, except: nil) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            let id = UUID().uuidString.lowercased()
            let at = StoreCoding.seconds(audit.at)
            try db.execute(
                sql: """
                    INSERT INTO users (id, email, email_key, name, department, active, external_id, scim_document, version, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                    """,
                arguments: [id, user.email, StoreCoding.emailKey(user.email), user.name, user.department, user.active ? 1 : 0,
                            user.externalID, StoreCoding.documentText(user.document), at, at]
            )
            try Self.appendAudit(db, AuditEvent(audit, action: .userProvisioned, target: user.email, before: nil, after: StoreCoding.provisioned(user)))
            return try Self.requireUser(db, id: id)
        }
    }

    public func updateProvisionedUser(
        id: String, _ user: ProvisionedUser, expectedVersion: Int?, audit: AuditContext
    ) async throws -> (UserRecord, DeprovisioningOutcome)? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("update provisioned user") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else { return nil }
            let before = SQLiteRows.user(row)
            if let expectedVersion, expectedVersion != before.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.version)
            }
            try Self.checkUserChange(db, id: id, deactivates: !user.active,
                                     renames: StoreCoding.emailKey(user.email) != StoreCoding.emailKey(before.email), policy: policy)
            guard try Self.emailAvailable(db, user.email, except: id) else {
                throw StoreConflict("a user with userName \(user.email) (or one it looks like) exists")
            }
            try db.execute(
                sql: """
                    UPDATE users SET email = ?, email_key = ?, name = ?, department = ?, active = ?, external_id = ?, scim_document = ?,
                        version = version + 1, updated_at = ? WHERE id = ?
                    """,
                arguments: [user.email, StoreCoding.emailKey(user.email), user.name, user.department, user.active ? 1 : 0, user.externalID,
                            StoreCoding.documentText(user.document), StoreCoding.seconds(audit.at), id]
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

    public func deleteProvisionedUser(id: String, expectedVersion: Int?, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("delete provisioned user") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else { return nil }
            let user = SQLiteRows.user(row)
            if let expectedVersion, expectedVersion != user.version {
                throw StoreVersionConflict(expected: expectedVersion, current: user.version)
            }
            try Self.checkUserChange(db, id: id, deactivates: true, renames: false, policy: policy)
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
        let tokens = db.changesCount
        try db.execute(sql: "DELETE FROM refresh_tokens WHERE user_id = ?", arguments: [userID])
        return DeprovisioningOutcome(revokedSessions: SQLiteRows.hashes(rows), revokedTokens: tokens)
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

    // MARK: groups

    public func provisionGroup(_ draft: GroupDraft, audit: AuditContext) async throws -> ProvisionedGroup {
        try await write("provision group") { db in
            try Self.requireUsers(db, draft.members)
            let at = StoreCoding.seconds(audit.at)
            let id: String
            let before: ProvisionedGroup?
            if let existing = try Row.fetchOne(db, sql: "SELECT id, provisioned FROM groups WHERE name = ?", arguments: [draft.name]) {
                guard (existing["provisioned"] as Int) == 0 else { throw StoreConflict("a group with displayName \(draft.name) exists") }
                // Adopted: a group a role mapping or a sign-in named before SCIM brought it.
                id = existing["id"]
                before = try Self.anyGroup(db, id: id)
                try db.execute(
                    sql: """
                        UPDATE groups SET provisioned = 1, external_id = ?, description = ?, version = version + 1, updated_at = ? WHERE id = ?
                        """,
                    arguments: [draft.externalID, draft.description, at, id]
                )
                try db.execute(sql: "DELETE FROM group_members WHERE group_id = ? AND source = 'scim'", arguments: [id])
            } else {
                id = UUID().uuidString.lowercased()
                before = nil
                try db.execute(
                    sql: """
                        INSERT INTO groups (id, name, display_name, external_id, description, provisioned, version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?)
                        """,
                    arguments: [id, draft.name, draft.name, draft.externalID, draft.description, at, at]
                )
            }
            try Self.addMembers(db, groupID: id, members: draft.members)
            let group = try Self.requireGroup(db, id: id)
            try Self.appendAudit(db, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: before.map(StoreCoding.members), after: StoreCoding.members(group)
            ))
            return group
        }
    }

    public func updateProvisionedGroup(
        id: String, _ draft: GroupDraft, expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<ProvisionedGroup, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("update provisioned group") { db in
            guard let before = try Self.provisionedGroup(db, id: id) else { return nil }
            if let expectedVersion, expectedVersion != before.group.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.group.version)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ? AND id != ?", arguments: [draft.name, id]) == true {
                throw StoreConflict("a group with displayName \(draft.name) exists")
            }
            try Self.requireUsers(db, draft.members)
            let current = Set(before.members.map(\.id))
            let wanted = Set(draft.members)
            let leaving = current.subtracting(wanted)
            let state = MembershipChangeState(
                group: before.group, losing: try Self.losing(db, groupID: id, users: leaving, policy: policy),
                holders: try Self.roleHolders(db), groupDeleted: false
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try db.execute(
                sql: "UPDATE groups SET name = ?, display_name = ?, external_id = ?, description = ?, version = version + 1, updated_at = ? WHERE id = ?",
                arguments: [draft.name, draft.name, draft.externalID, draft.description, StoreCoding.seconds(audit.at), id]
            )
            for member in leaving {
                try db.execute(sql: "DELETE FROM group_members WHERE group_id = ? AND user_id = ? AND source = 'scim'", arguments: [id, member])
            }
            try Self.addMembers(db, groupID: id, members: Array(wanted.subtracting(current)))
            let after = try Self.requireGroup(db, id: id)
            try Self.appendAudit(db, AuditEvent(
                audit, action: .groupProvisioned, target: draft.name, before: StoreCoding.members(before), after: StoreCoding.members(after)
            ))
            return .success(after)
        }
    }

    public func deleteProvisionedGroup(
        id: String, expectedVersion: Int?, audit: AuditContext, decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<Void, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("delete provisioned group") { db in
            guard let before = try Self.provisionedGroup(db, id: id) else { return nil }
            if let expectedVersion, expectedVersion != before.group.version {
                throw StoreVersionConflict(expected: expectedVersion, current: before.group.version)
            }
            let others = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM group_members WHERE group_id = ? AND source != 'scim'", arguments: [id]) ?? 0
            let keep = before.group.roles != nil || others > 0
            let state = MembershipChangeState(
                group: before.group, losing: try Self.losing(db, groupID: id, users: Set(before.members.map(\.id)), policy: policy),
                holders: try Self.roleHolders(db), groupDeleted: !keep
            )
            if let refusal = decide(state) { return .failure(refusal) }
            try db.execute(sql: "DELETE FROM group_members WHERE group_id = ? AND source = 'scim'", arguments: [id])
            if keep {
                try db.execute(
                    sql: "UPDATE groups SET provisioned = 0, external_id = NULL, version = version + 1, updated_at = ? WHERE id = ?",
                    arguments: [StoreCoding.seconds(audit.at), id]
                )
            } else {
                try db.execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id])
            }
            try Self.appendAudit(db, AuditEvent(
                audit, action: .groupDeprovisioned, target: before.group.name, before: StoreCoding.members(before),
                after: keep ? .object(["kept_for": .string(before.group.roles != nil ? "role mapping" : "sign-in memberships")]) : nil
            ))
            return .success(())
        }
    }

    /// The role rules for SCIM changing a user itself, decided inside the writing transaction.
    static func checkUserChange(_ db: Database, id: String, deactivates: Bool, renames: Bool, policy: GroupSourcePolicy) throws {
        guard deactivates || renames, let identity = try userIdentity(db, where: "id = ?", id, policy: policy) else { return }
        if let refusal = RoleChangeSafety.changeProvisionedUser(identity, deactivates: deactivates, renames: renames, holders: try roleHolders(db)) {
            throw refusal
        }
    }

    /// Of `users` (leaving the group's SCIM membership), those who will not be members through
    /// another source, as they are now.
    static func losing(_ db: Database, groupID: String, users: Set<String>, policy: GroupSourcePolicy) throws -> [UserIdentity] {
        var result: [UserIdentity] = []
        for userID in users.sorted() {
            let stays = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ? AND source != 'scim' AND source IN \(StoreCoding.sourceList(policy))",
                arguments: [groupID, userID]
            ) == true
            if !stays, let identity = try userIdentity(db, where: "id = ?", userID, policy: policy) { result.append(identity) }
        }
        return result
    }

    public func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try await read("read group") { db in try Self.provisionedGroup(db, id: id) }
    }

    public func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try await read("list groups") { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM groups WHERE provisioned = 1") ?? 0
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM groups WHERE provisioned = 1 ORDER BY name LIMIT ? OFFSET ?", arguments: [max(0, limit), max(0, offset)]
            )
            return (try ids.compactMap { try Self.provisionedGroup(db, id: $0) }, total)
        }
    }

    /// Throws ``StoreUnknownReferences`` for ids that are not users.
    static func requireUsers(_ db: Database, _ ids: [String]) throws {
        var unknown: [String] = []
        for id in Set(ids).sorted() where try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [id]) != true {
            unknown.append(id)
        }
        if !unknown.isEmpty { throw StoreUnknownReferences(unknown) }
    }

    static func addMembers(_ db: Database, groupID: String, members: [String]) throws {
        for member in Set(members) {
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members (group_id, user_id, source) SELECT ?, id, 'scim' FROM users WHERE id = ?",
                arguments: [groupID, member]
            )
        }
    }

    /// A group SCIM manages, with its SCIM members.
    static func provisionedGroup(_ db: Database, id: String) throws -> ProvisionedGroup? {
        guard let group = try anyGroup(db, id: id), group.group.provisioned else { return nil }
        return group
    }

    static func anyGroup(_ db: Database, id: String) throws -> ProvisionedGroup? {
        guard let row = try Row.fetchOne(
            db,
            sql: "SELECT \(SQLiteRows.groupColumns) FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.id = ?",
            arguments: [id]
        ) else { return nil }
        let members = try Row.fetchAll(
            db,
            sql: "SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND m.source = 'scim' ORDER BY u.email_key",
            arguments: [id]
        ).map(SQLiteRows.user)
        return ProvisionedGroup(group: SQLiteRows.group(row), members: members)
    }

    static func requireGroup(_ db: Database, id: String) throws -> ProvisionedGroup {
        guard let group = try anyGroup(db, id: id) else { throw StoreError(operation: "read group", reason: "the group vanished") }
        return group
    }
}

extension SQLiteStore: IdentityGrantStore {
    public func saveRefreshToken(userID: String, sealed: [UInt8], at: Date) async throws {
        try await write("save refresh token") { db in
            try db.execute(
                sql: """
                    INSERT INTO refresh_tokens (user_id, sealed, refreshed_at) VALUES (?, ?, ?)
                    ON CONFLICT(user_id) DO UPDATE SET sealed = excluded.sealed, refreshed_at = excluded.refreshed_at
                    """,
                arguments: [userID, Data(sealed), StoreCoding.seconds(at)]
            )
        }
    }

    public func refreshToken(userID: String) async throws -> StoredRefreshToken? {
        try await read("read refresh token") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE user_id = ?", arguments: [userID]).map(Self.refreshToken)
        }
    }

    public func refreshTokensDue(refreshedBefore: Date, now: Date, limit: Int) async throws -> [StoredRefreshToken] {
        try await read("read refresh tokens due") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.* FROM refresh_tokens t JOIN users u ON u.id = t.user_id
                    WHERE t.refreshed_at < ? AND u.active = 1 AND EXISTS (
                        SELECT 1 FROM sessions s WHERE s.user_id = t.user_id AND s.revoked_at IS NULL AND s.absolute_expires_at > ?)
                    ORDER BY t.refreshed_at LIMIT ?
                    """,
                arguments: [StoreCoding.seconds(refreshedBefore), StoreCoding.seconds(now), max(0, limit)]
            ).map(Self.refreshToken)
        }
    }

    public func deleteRefreshToken(userID: String) async throws {
        try await write("delete refresh token") { db in
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE user_id = ?", arguments: [userID])
        }
    }

    static func refreshToken(_ row: Row) -> StoredRefreshToken {
        let sealed: Data = row["sealed"]
        return StoredRefreshToken(
            userID: row["user_id"], sealed: Array(sealed), refreshedAt: StoreCoding.date(row["refreshed_at"]) ?? Date(timeIntervalSince1970: 0)
        )
    }
}
