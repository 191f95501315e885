import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: AdministrationStore {
    public func teammates(matching query: TeammateQuery) async throws -> [UserIdentity] {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("list teammates") { connection in
            let text = query.text?.trimmingCharacters(in: .whitespaces).lowercased()
            let pattern: String? = text.flatMap { $0.isEmpty ? nil : "%" + StoreCoding.likeEscaped($0) + "%" }
            let department: String? = query.department.flatMap { $0.isEmpty ? nil : $0.lowercased() }
            let users = try await connection.all(
                """
                SELECT * FROM users
                WHERE (\(pattern)::TEXT IS NULL OR email_key LIKE \(pattern) ESCAPE '\\' OR lower(COALESCE(name, '')) LIKE \(pattern) ESCAPE '\\')
                  AND (\(department)::TEXT IS NULL OR lower(COALESCE(department, '')) = \(department))
                ORDER BY email_key
                """,
                logger: logger, PostgresRows.user
            )
            return try await identities(connection, users: users, policy: policy)
        }
    }

    /// Users with their groups (of the sources that count) and the settings, in two queries.
    func identities(_ connection: PostgresConnection, users: [UserRecord], policy: GroupSourcePolicy) async throws -> [UserIdentity] {
        var groupsByUser: [String: [GroupRecord]] = [:]
        if !users.isEmpty {
            let ids = users.map(\.id)
            for try await row in try await connection.query(
                """
                SELECT m.user_id AS member_id, \(unescaped: PostgresRows.groupColumns), string_agg(m.source, ',' ORDER BY m.source) AS sources
                FROM group_members m JOIN groups g ON g.id = m.group_id LEFT JOIN group_roles r ON r.group_id = g.id
                WHERE m.user_id = ANY(\(ids)) AND m.source IN \(unescaped: StoreCoding.sourceList(policy))
                GROUP BY m.user_id, g.id, r.group_id ORDER BY g.name
                """,
                logger: logger
            ) {
                let member = try row.makeRandomAccess()["member_id"].decode(String.self)
                groupsByUser[member, default: []].append(try PostgresRows.group(row))
            }
        }
        let defaults: DefaultMemberPermissions = try await setting(connection, SettingKey.defaultMemberPermissions) ?? .allOn
        let flags: FeatureFlags = try await setting(connection, SettingKey.featureFlags) ?? .defaults
        return users.map { UserIdentity(user: $0, groups: groupsByUser[$0.id] ?? [], defaults: defaults, flags: flags) }
    }

    /// Takes the write lock: audited writes and role decisions happen one at a time.
    func lock(_ connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger: logger)
    }

    public func changeUserRoles(
        userID: String,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("change user roles") { connection in
            try await lock(connection)
            guard let identity = try await userIdentity(connection, id: userID, policy: policy) else { return nil }
            let state = RoleChangeState(user: identity, holders: try await roleHolders(connection), mappedGroupCount: try await mappedGroupCount(connection))
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let assignment):
                let before = identity.user.directRoles
                try await connection.query(
                    """
                    UPDATE users SET direct_primary = \(assignment.primary?.rawValue),
                        direct_secondary = \(StoreCoding.secondaryText(assignment.secondary)) WHERE id = \(userID)
                    """,
                    logger: logger
                )
                if before != assignment {
                    try await appendAudit(connection, AuditEvent(
                        audit, action: .userRolesChanged, target: identity.user.email,
                        before: StoreCoding.jsonValue(before), after: StoreCoding.jsonValue(assignment)
                    ))
                    try await notify(.policyChanged, on: connection)
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
        try await write("change group roles") { connection in
            try await lock(connection)
            let existing = try await group(connection, named: name)
            let state = RoleChangeState(
                group: existing?.group, holders: try await roleHolders(connection), mappedGroupCount: try await mappedGroupCount(connection)
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
                    let at = StoreCoding.seconds(audit.at)
                    try await connection.query(
                        "INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES (\(id), \(name), \(name), \(at), \(at))",
                        logger: logger
                    )
                    group = GroupSummary(group: GroupRecord(id: id, name: name, displayName: name), memberCount: 0)
                }
                let before = group.group.roles
                if let assignment {
                    try await connection.query(
                        """
                        INSERT INTO group_roles (group_id, primary_role, secondary, updated_at)
                        VALUES (\(group.group.id), \(assignment.primary?.rawValue), \(StoreCoding.secondaryText(assignment.secondary)),
                                \(StoreCoding.seconds(audit.at)))
                        ON CONFLICT (group_id) DO UPDATE SET primary_role = excluded.primary_role,
                            secondary = excluded.secondary, updated_at = excluded.updated_at
                        """,
                        logger: logger
                    )
                } else {
                    try await connection.query("DELETE FROM group_roles WHERE group_id = \(group.group.id)", logger: logger)
                }
                if before != assignment {
                    try await appendAudit(connection, AuditEvent(
                        audit, action: .groupRolesChanged, target: name,
                        before: before.map(StoreCoding.jsonValue) ?? .null, after: assignment.map(StoreCoding.jsonValue) ?? .null
                    ))
                    try await notify(.policyChanged, on: connection)
                }
                return .success(RoleChangeOutcome(before: before, after: assignment))
            }
        }
    }

    public func roleHolders() async throws -> RoleHolders {
        try await read("read role holders") { connection in try await roleHolders(connection) }
    }

    /// Principals holding roles. Groups hold nothing while `group_based_permissions` is off.
    func roleHolders(_ connection: PostgresConnection) async throws -> RoleHolders {
        var holders = RoleHolders()
        let flags: FeatureFlags = try await setting(connection, SettingKey.featureFlags) ?? .defaults
        for try await (email, primary, secondary) in try await connection.query(
            """
            SELECT email, direct_primary, direct_secondary FROM users
            WHERE active AND (direct_primary IS NOT NULL OR direct_secondary != '')
            """,
            logger: logger
        ).decode((String, String?, String).self) {
            holders.add(.user(email), holding: RoleAssignment(primary: StoreCoding.primaryRole(primary), secondary: StoreCoding.secondaryRoles(secondary)))
        }
        for try await (name, primary, secondary) in try await connection.query(
            "SELECT g.name, r.primary_role, r.secondary FROM group_roles r JOIN groups g ON g.id = r.group_id", logger: logger
        ).decode((String, String?, String).self) where flags.groupBasedPermissions {
            holders.add(.group(name), holding: RoleAssignment(primary: StoreCoding.primaryRole(primary), secondary: StoreCoding.secondaryRoles(secondary)))
        }
        return holders
    }

    func mappedGroupCount(_ connection: PostgresConnection) async throws -> Int {
        Int(try await connection.scalar("SELECT COUNT(*) FROM group_roles", as: Int64.self, logger: logger) ?? 0)
    }

    public func groups() async throws -> [GroupSummary] {
        try await read("list groups") { connection in
            try await connection.all(
                """
                SELECT \(unescaped: PostgresRows.groupColumns), (SELECT COUNT(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) AS members
                FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id ORDER BY g.name
                """,
                logger: logger
            ) { GroupSummary(group: try PostgresRows.group($0), memberCount: Int(try $0.makeRandomAccess()["members"].decode(Int64.self))) }
        }
    }

    public func group(named name: String) async throws -> GroupSummary? {
        try await read("read group") { connection in try await group(connection, named: name) }
    }

    func group(_ connection: PostgresConnection, named name: String) async throws -> GroupSummary? {
        try await connection.first(
            """
            SELECT \(unescaped: PostgresRows.groupColumns), (SELECT COUNT(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) AS members
            FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.name = \(name)
            """,
            logger: logger
        ) { GroupSummary(group: try PostgresRows.group($0), memberCount: Int(try $0.makeRandomAccess()["members"].decode(Int64.self))) }
    }

    public func ensureUser(email: String, at: Date) async throws -> UserRecord {
        try await write("create user") { connection in
            let key = StoreCoding.emailKey(email)
            try await connection.query(
                """
                INSERT INTO users (id, email, email_key, created_at) VALUES (\(UUID().uuidString.lowercased()), \(email), \(key), \(StoreCoding.seconds(at)))
                ON CONFLICT (email_key) DO NOTHING
                """,
                logger: logger
            )
            guard let user = try await connection.first("SELECT * FROM users WHERE email_key = \(key)", logger: logger, PostgresRows.user) else {
                throw StoreError(operation: "create user", reason: "the user vanished")
            }
            return user
        }
    }

    public func bootstrapSuperAdmin(userID: String, force: Bool, audit: AuditContext) async throws -> Bool {
        try await write("bootstrap super admin") { connection in
            try await lock(connection)
            let existing = try await roleHolders(connection).holders(of: .primary(.superAdmin))
            if !existing.isEmpty, !force { return false }
            guard let user = try await connection.first("SELECT * FROM users WHERE id = \(userID)", logger: logger, PostgresRows.user) else {
                throw StoreError(operation: "bootstrap super admin", reason: "no such user")
            }
            var after = user.directRoles
            after.primary = .superAdmin
            try await connection.query(
                "UPDATE users SET direct_primary = \(PrimaryRole.superAdmin.rawValue), active = TRUE WHERE id = \(userID)", logger: logger
            )
            try await appendAudit(connection, AuditEvent(
                audit, action: .superAdminBootstrapped, target: user.email,
                before: StoreCoding.jsonValue(user.directRoles),
                after: .object([
                    "roles": StoreCoding.jsonValue(after),
                    "forced": .bool(force),
                    "existing_super_admins": .array(existing.map(\.description).sorted().map(JSONValue.string)),
                ])
            ))
            try await notify(.policyChanged, on: connection)
            return true
        }
    }

    public func setDefaultMemberPermissions(_ permissions: DefaultMemberPermissions, expectedVersion: Int?, audit: AuditContext) async throws -> Int {
        try await write("write default member permissions") { connection in
            try await lock(connection)
            try await checkVersion(connection, SettingKey.defaultMemberPermissions, expected: expectedVersion)
            let before = try await versionedSetting(connection, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
            guard before.value != permissions else { return before.version }
            try await setSetting(connection, SettingKey.defaultMemberPermissions, permissions)
            try await appendAudit(connection, AuditEvent(
                audit, action: .defaultMemberPermissionsChanged, target: "default_member_permissions",
                before: StoreCoding.jsonValue(before.value), after: StoreCoding.jsonValue(permissions)
            ))
            try await notify(.policyChanged, on: connection)
            return try await versionedSetting(connection, SettingKey.defaultMemberPermissions, default: permissions).version
        }
    }

    public func changeFeatureFlags(
        expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (FlagChangeState) -> Result<(FeatureFlags, FlagChangeImpact), RoleChangeRefusal>
    ) async throws -> Result<Versioned<FeatureFlags>, RoleChangeRefusal> {
        let policy = membershipPolicy.withLock { $0 }
        return try await write("write feature flags") { connection in
            try await lock(connection)
            try await checkVersion(connection, SettingKey.featureFlags, expected: expectedVersion)
            let current = try await versionedSetting(connection, SettingKey.featureFlags, default: FeatureFlags.defaults)
            let users = try await connection.all("SELECT * FROM users WHERE active ORDER BY email_key", logger: logger, PostgresRows.user)
            let state = FlagChangeState(
                current: current, users: try await identities(connection, users: users, policy: policy), holders: try await roleHolders(connection)
            )
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let (flags, impact)):
                guard flags != current.value else { return .success(current) }
                try await setSetting(connection, SettingKey.featureFlags, flags)
                var after = StoreCoding.jsonValue(flags)
                if !impact.superAdminsDemoted.isEmpty, case .object(var fields) = after {
                    fields["super_admins_demoted"] = .array(impact.superAdminsDemoted.map(JSONValue.string))
                    after = .object(fields)
                }
                try await appendAudit(connection, AuditEvent(
                    audit, action: .featureFlagsChanged, target: "feature_flags", before: StoreCoding.jsonValue(current.value), after: after
                ))
                try await notify(.policyChanged, on: connection)
                return .success(try await versionedSetting(connection, SettingKey.featureFlags, default: flags))
            }
        }
    }

    public func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int) {
        try await write("sign out everywhere") { connection in
            try await lock(connection)
            let at = StoreCoding.seconds(audit.at)
            let email = try await connection.scalar("SELECT email FROM users WHERE id = \(userID)", as: String.self, logger: logger) ?? userID
            try await connection.query("UPDATE users SET not_before = \(at) WHERE id = \(userID)", logger: logger)
            let sessions = try await connection.all(
                """
                UPDATE sessions SET revoked_at = \(at), revoked_by = \(audit.actor), revoked_reason = \(reason)
                WHERE user_id = \(userID) AND revoked_at IS NULL RETURNING id_hash
                """,
                logger: logger
            ) { SessionIDHash(bytes: Array(try $0.decode(Data.self))) }
            var tokens = 0
            if includeAPITokens {
                tokens = try await connection.count(
                    "UPDATE api_tokens SET revoked_at = \(at) WHERE owner_id = \(userID) AND revoked_at IS NULL RETURNING 1", logger: logger
                )
            }
            try await appendAudit(connection, AuditEvent(
                audit, action: .sessionsSignedOut, target: email, before: nil,
                after: .object([
                    "revoked_sessions": .number(Double(sessions.count)),
                    "revoked_tokens": .number(Double(tokens)),
                    "include_api_tokens": .bool(includeAPITokens),
                    "reason": .string(reason),
                ])
            ))
            try await notify(.sessionsRevoked(sessions: sessions, users: [userID]), on: connection)
            return (sessions, tokens)
        }
    }
}
