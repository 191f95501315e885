import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: AdministrationStore {
    public func teammates(matching query: TeammateQuery) async throws -> [UserIdentity] {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("list teammates") { db in
            var filters: [String] = []
            var arguments: StatementArguments = []
            if let text = query.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                filters.append("(email_key LIKE ? ESCAPE '\\' OR lower(COALESCE(name, '')) LIKE ? ESCAPE '\\')")
                let pattern = "%" + StoreCoding.likeEscaped(text.lowercased()) + "%"
                arguments += [pattern, pattern]
            }
            if let department = query.department, !department.isEmpty {
                filters.append("lower(COALESCE(department, '')) = ?")
                arguments += [department.lowercased()]
            }
            let condition = filters.isEmpty ? "" : "WHERE " + filters.joined(separator: " AND ")
            let users = try Row.fetchAll(db, sql: "SELECT * FROM users \(condition) ORDER BY email_key", arguments: arguments)
                .map(SQLiteRows.user)
            let groupsByUser = try Self.groupsByUser(db, userIDs: users.map(\.id), policy: policy)
            let defaults: DefaultMemberPermissions = try Self.setting(db, SettingKey.defaultMemberPermissions) ?? .allOn
            let flags: FeatureFlags = try Self.setting(db, SettingKey.featureFlags) ?? .defaults
            return users.map { UserIdentity(user: $0, groups: groupsByUser[$0.id] ?? [], defaults: defaults, flags: flags) }
        }
    }

    /// Memberships of many users at once (one query, not one per user), of the sources that
    /// count.
    static func groupsByUser(_ db: Database, userIDs: [String], policy: GroupSourcePolicy) throws -> [String: [GroupRecord]] {
        guard !userIDs.isEmpty else { return [:] }
        var result: [String: [GroupRecord]] = [:]
        // Chunks stay under SQLite's limit on bound parameters.
        for start in stride(from: 0, to: userIDs.count, by: 500) {
            let chunk = Array(userIDs[start..<min(start + 500, userIDs.count)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.user_id AS member_id, \(SQLiteRows.groupColumns), group_concat(m.source) AS sources FROM group_members m
                    JOIN groups g ON g.id = m.group_id
                    LEFT JOIN group_roles r ON r.group_id = g.id
                    WHERE m.user_id IN (\(marks)) AND m.source IN \(StoreCoding.sourceList(policy))
                    GROUP BY m.user_id, g.id ORDER BY g.name
                    """,
                arguments: StatementArguments(chunk)
            )
            for row in rows {
                result[row["member_id"] as String, default: []].append(SQLiteRows.group(row))
            }
        }
        return result
    }

    public func changeUserRoles(
        userID: String,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("change user roles") { db in
            guard let identity = try Self.userIdentity(db, where: "id = ?", userID, policy: policy) else { return nil }
            let state = RoleChangeState(
                user: identity, holders: try Self.roleHolders(db), mappedGroupCount: try Self.mappedGroupCount(db)
            )
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let assignment):
                let before = identity.user.directRoles
                try db.execute(
                    sql: "UPDATE users SET direct_primary = ?, direct_secondary = ? WHERE id = ?",
                    arguments: [assignment.primary?.rawValue, StoreCoding.secondaryText(assignment.secondary), userID]
                )
                if before != assignment {
                    try Self.appendAudit(db, AuditEvent(
                        audit, action: .userRolesChanged, target: identity.user.email,
                        before: StoreCoding.jsonValue(before), after: StoreCoding.jsonValue(assignment)
                    ))
                }
                return .success(RoleChangeOutcome(before: before, after: assignment))
            }
        }
    }

    public func changeGroupRoles(
        name: String,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment?, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        try await write("change group roles") { db in
            let existing = try Self.group(db, named: name)
            let state = RoleChangeState(
                group: existing?.group, holders: try Self.roleHolders(db), mappedGroupCount: try Self.mappedGroupCount(db)
            )
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let assignment):
                let group: GroupSummary
                if let existing {
                    group = existing
                } else {
                    // A mapping may name a group before SCIM or a sign-in brings it.
                    guard assignment != nil else { return nil }
                    let id = UUID().uuidString.lowercased()
                    try db.execute(
                        sql: "INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                        arguments: [id, name, name, StoreCoding.seconds(audit.at), StoreCoding.seconds(audit.at)]
                    )
                    group = GroupSummary(group: GroupRecord(id: id, name: name, displayName: name), memberCount: 0)
                }
                let before = group.group.roles
                if let assignment {
                    try db.execute(
                        sql: """
                            INSERT INTO group_roles (group_id, primary_role, secondary, updated_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT(group_id) DO UPDATE SET primary_role = excluded.primary_role,
                                secondary = excluded.secondary, updated_at = excluded.updated_at
                            """,
                        arguments: [group.group.id, assignment.primary?.rawValue, StoreCoding.secondaryText(assignment.secondary),
                                    StoreCoding.seconds(audit.at)]
                    )
                } else {
                    try db.execute(sql: "DELETE FROM group_roles WHERE group_id = ?", arguments: [group.group.id])
                }
                if before != assignment {
                    try Self.appendAudit(db, AuditEvent(
                        audit, action: .groupRolesChanged, target: name,
                        before: before.map(StoreCoding.jsonValue) ?? .null, after: assignment.map(StoreCoding.jsonValue) ?? .null
                    ))
                }
                return .success(RoleChangeOutcome(before: before, after: assignment))
            }
        }
    }

    public func roleHolders() async throws -> RoleHolders {
        try await read("read role holders") { db in try Self.roleHolders(db) }
    }

    /// Principals holding roles. Groups hold nothing while `group_based_permissions` is off.
    static func roleHolders(_ db: Database) throws -> RoleHolders {
        var holders = RoleHolders()
        let flags: FeatureFlags = try setting(db, SettingKey.featureFlags) ?? .defaults
        let users = try Row.fetchAll(
            db,
            sql: """
                SELECT email, direct_primary, direct_secondary FROM users
                WHERE active = 1 AND (direct_primary IS NOT NULL OR direct_secondary != '')
                """
        )
        for row in users {
            holders.add(.user(row["email"]), holding: RoleAssignment(
                primary: StoreCoding.primaryRole(row["direct_primary"]),
                secondary: StoreCoding.secondaryRoles(row["direct_secondary"])
            ))
        }
        let groups = try Row.fetchAll(
            db, sql: "SELECT g.name, r.primary_role, r.secondary FROM group_roles r JOIN groups g ON g.id = r.group_id"
        )
        for row in groups where flags.groupBasedPermissions {
            holders.add(.group(row["name"]), holding: RoleAssignment(
                primary: StoreCoding.primaryRole(row["primary_role"]),
                secondary: StoreCoding.secondaryRoles(row["secondary"])
            ))
        }
        return holders
    }

    static func mappedGroupCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM group_roles") ?? 0
    }

    public func groups() async throws -> [GroupSummary] {
        try await read("list groups") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(SQLiteRows.groupColumns), (SELECT COUNT(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) AS members
                    FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id ORDER BY g.name
                    """
            ).map { GroupSummary(group: SQLiteRows.group($0), memberCount: $0["members"]) }
        }
    }

    public func group(named name: String) async throws -> GroupSummary? {
        try await read("read group") { db in try Self.group(db, named: name) }
    }

    static func group(_ db: Database, named name: String) throws -> GroupSummary? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT \(SQLiteRows.groupColumns), (SELECT COUNT(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) AS members
                FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.name = ?
                """,
            arguments: [name]
        ).map { GroupSummary(group: SQLiteRows.group($0), memberCount: $0["members"]) }
    }

    public func ensureUser(email: String, at: Date) async throws -> UserRecord {
        try await write("create user") { db in
            let key = StoreCoding.emailKey(email)
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email_key = ?", arguments: [key]) {
                return SQLiteRows.user(row)
            }
            let id = UUID().uuidString.lowercased()
            try db.execute(
                sql: "INSERT INTO users (id, email, email_key, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, email, key, StoreCoding.seconds(at)]
            )
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else {
                throw StoreError(operation: "create user", reason: "the user vanished")
            }
            return SQLiteRows.user(row)
        }
    }

    public func bootstrapSuperAdmin(userID: String, force: Bool, audit: AuditContext) async throws -> Bool {
        try await write("bootstrap super admin") { db in
            let holders = try Self.roleHolders(db)
            let existing = holders.holders(of: .primary(.superAdmin))
            if !existing.isEmpty, !force { return false }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [userID]) else {
                throw StoreError(operation: "bootstrap super admin", reason: "no such user")
            }
            let user = SQLiteRows.user(row)
            var after = user.directRoles
            after.primary = .superAdmin
            try db.execute(
                sql: "UPDATE users SET direct_primary = ?, active = 1 WHERE id = ?",
                arguments: [PrimaryRole.superAdmin.rawValue, userID]
            )
            try Self.appendAudit(db, AuditEvent(
                audit, action: .superAdminBootstrapped, target: user.email,
                before: StoreCoding.jsonValue(user.directRoles),
                after: .object([
                    "roles": StoreCoding.jsonValue(after),
                    "forced": .bool(force),
                    "existing_super_admins": .array(existing.map(\.description).sorted().map(JSONValue.string)),
                ])
            ))
            return true
        }
    }

    public func setDefaultMemberPermissions(_ permissions: DefaultMemberPermissions, expectedVersion: Int?, audit: AuditContext) async throws -> Int {
        try await write("write default member permissions") { db in
            try Self.checkVersion(db, SettingKey.defaultMemberPermissions, expected: expectedVersion)
            let before = try Self.versionedSetting(db, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
            guard before.value != permissions else { return before.version }
            try Self.setSetting(db, SettingKey.defaultMemberPermissions, permissions)
            try Self.appendAudit(db, AuditEvent(
                audit, action: .defaultMemberPermissionsChanged, target: "default_member_permissions",
                before: StoreCoding.jsonValue(before.value), after: StoreCoding.jsonValue(permissions)
            ))
            return try Self.versionedSetting(db, SettingKey.defaultMemberPermissions, default: permissions).version
        }
    }

    public func changeFeatureFlags(
        expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (FlagChangeState) -> Result<(FeatureFlags, FlagChangeImpact), RoleChangeRefusal>
    ) async throws -> Result<Versioned<FeatureFlags>, RoleChangeRefusal> {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("write feature flags") { db in
            try Self.checkVersion(db, SettingKey.featureFlags, expected: expectedVersion)
            let current = try Self.versionedSetting(db, SettingKey.featureFlags, default: FeatureFlags.defaults)
            let users = try Row.fetchAll(db, sql: "SELECT * FROM users WHERE active = 1 ORDER BY email_key").map(SQLiteRows.user)
            let groupsByUser = try Self.groupsByUser(db, userIDs: users.map(\.id), policy: policy)
            let defaults: DefaultMemberPermissions = try Self.setting(db, SettingKey.defaultMemberPermissions) ?? .allOn
            let identities = users.map { UserIdentity(user: $0, groups: groupsByUser[$0.id] ?? [], defaults: defaults, flags: current.value) }
            let state = FlagChangeState(current: current, users: identities, holders: try Self.roleHolders(db))
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let (flags, impact)):
                guard flags != current.value else { return .success(current) }
                try Self.setSetting(db, SettingKey.featureFlags, flags)
                var after = StoreCoding.jsonValue(flags)
                if !impact.superAdminsDemoted.isEmpty, case .object(var fields) = after {
                    fields["super_admins_demoted"] = .array(impact.superAdminsDemoted.map(JSONValue.string))
                    after = .object(fields)
                }
                try Self.appendAudit(db, AuditEvent(
                    audit, action: .featureFlagsChanged, target: "feature_flags", before: StoreCoding.jsonValue(current.value), after: after
                ))
                return .success(try Self.versionedSetting(db, SettingKey.featureFlags, default: flags))
            }
        }
    }

    public func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int) {
        try await write("sign out everywhere") { db in
            let at = StoreCoding.seconds(audit.at)
            let email = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [userID]) ?? userID
            try db.execute(sql: "UPDATE users SET not_before = ? WHERE id = ?", arguments: [at, userID])
            let rows = try Row.fetchAll(db, sql: "SELECT id_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL", arguments: [userID])
            try db.execute(
                sql: "UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
                arguments: [at, audit.actor, reason, userID]
            )
            var tokens = 0
            if includeAPITokens {
                try db.execute(
                    sql: "UPDATE api_tokens SET revoked_at = ? WHERE owner_id = ? AND revoked_at IS NULL",
                    arguments: [at, userID]
                )
                tokens = db.changesCount
            }
            let sessions = SQLiteRows.hashes(rows)
            try Self.appendAudit(db, AuditEvent(
                audit, action: .sessionsSignedOut, target: email, before: nil,
                after: .object([
                    "revoked_sessions": .number(Double(sessions.count)),
                    "revoked_tokens": .number(Double(tokens)),
                    "include_api_tokens": .bool(includeAPITokens),
                    "reason": .string(reason),
                ])
            ))
            return (sessions, tokens)
        }
    }
}
