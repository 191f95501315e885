import Foundation
import PortcullisCore

extension SQLStore: AdministrationStore {
    package func teammates(matching query: TeammateQuery) async throws -> [UserIdentity] {
        let sources = countedSources
        return try await read("list teammates") { connection in
            let text = query.text?.trimmingCharacters(in: .whitespaces).lowercased()
            let pattern: String? = text.flatMap { $0.isEmpty ? nil : "%" + StoreCoding.likeEscaped($0) + "%" }
            let department: String? = query.department.flatMap { $0.isEmpty ? nil : $0.lowercased() }
            let users = try await connection.all(
                """
                SELECT * FROM users
                WHERE (CAST($1 AS TEXT) IS NULL OR email_key LIKE $1 ESCAPE '\\' OR lower(COALESCE(name, '')) LIKE $1 ESCAPE '\\')
                  AND (CAST($2 AS TEXT) IS NULL OR lower(COALESCE(department, '')) = $2)
                ORDER BY email_key
                """,
                [pattern, department], StoreRows.user
            )
            return try await Self.identities(connection, users: users, sources: sources)
        }
    }

    package func changeUserRoles(
        userID: String,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        let sources = countedSources
        return try await lockedWrite("change user roles") { connection in
            guard let identity = try await Self.userIdentity(connection, id: userID, sources: sources) else { return nil }
            let state = RoleChangeState(
                user: identity, holders: try await Self.roleHolders(connection, sources: sources),
                mappedGroupCount: try await Self.mappedGroupCount(connection)
            )
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let assignment):
                let before = identity.user.directRoles
                try await connection.execute(
                    "UPDATE users SET direct_primary = $1, direct_secondary = $2 WHERE id = $3",
                    [assignment.primary?.rawValue, StoreCoding.secondaryText(assignment.secondary), userID]
                )
                if before != assignment {
                    try await Self.appendAudit(connection, AuditEvent(
                        audit, action: .userRolesChanged, target: identity.user.email,
                        before: StoreCoding.jsonValue(before), after: StoreCoding.jsonValue(assignment)
                    ))
                    try await connection.announce(.policyChanged)
                }
                return .success(RoleChangeOutcome(before: before, after: assignment))
            }
        }
    }

    package func changeGroupRoles(
        name: String,
        source: GroupSource,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment?, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        let sources = countedSources
        return try await lockedWrite("change group roles") { connection in
            let existing = try await Self.group(connection, named: name)
            let state = RoleChangeState(
                group: existing?.group, holders: try await Self.roleHolders(connection, sources: sources),
                mappedGroupCount: try await Self.mappedGroupCount(connection)
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
                    try await connection.execute(
                        "INSERT INTO groups (id, name, display_name, created_at, updated_at) VALUES ($1, $2, $2, $3, $3)",
                        [id, name, StoreCoding.seconds(audit.at)]
                    )
                    group = GroupSummary(group: GroupRecord(id: id, name: name, displayName: name), memberCount: 0)
                }
                let before = group.group.mappings[source]
                if let assignment {
                    try await connection.execute(
                        """
                        INSERT INTO group_roles (group_id, source, primary_role, secondary, updated_at) VALUES ($1, $2, $3, $4, $5)
                        ON CONFLICT (group_id, source) DO UPDATE SET primary_role = excluded.primary_role,
                            secondary = excluded.secondary, updated_at = excluded.updated_at
                        """,
                        [group.group.id, source.rawValue, assignment.primary?.rawValue, StoreCoding.secondaryText(assignment.secondary),
                         StoreCoding.seconds(audit.at)]
                    )
                } else {
                    try await connection.execute("DELETE FROM group_roles WHERE group_id = $1 AND source = $2", [group.group.id, source.rawValue])
                }
                // An admin has looked at the group's mappings: what the v6 migration could not
                // decide is decided now.
                let reviewed = !group.group.mappingsToReview.isEmpty
                if reviewed {
                    try await connection.execute("UPDATE group_roles SET review = \(.false) WHERE group_id = $1", [group.group.id])
                }
                if before != assignment || reviewed {
                    try await Self.appendAudit(connection, AuditEvent(
                        audit, action: .groupRolesChanged, target: name,
                        before: StoreCoding.mapping(before, source: source), after: StoreCoding.mapping(assignment, source: source)
                    ))
                    try await connection.announce(.policyChanged)
                }
                return .success(RoleChangeOutcome(before: before, after: assignment))
            }
        }
    }

    package func roleHolders() async throws -> RoleHolders {
        let sources = countedSources
        return try await read("read role holders") { connection in try await Self.roleHolders(connection, sources: sources) }
    }

    /// Who holds each role: active users by direct assignment, and each group mapping with the
    /// active people it gives its roles to, its members through the mapping's source when that
    /// source counts (``countedSources``). Groups hold nothing while `group_based_permissions`
    /// is off; a mapped group without such members holds nothing either.
    static func roleHolders(_ connection: some StoreConnection, sources: (String, String)) async throws -> RoleHolders {
        var holders = RoleHolders()
        let flags: FeatureFlags = try await setting(connection, SettingKey.featureFlags) ?? .defaults
        for row in try await connection.rows(
            """
            SELECT email, direct_primary, direct_secondary FROM users
            WHERE active = \(.true) AND (direct_primary IS NOT NULL OR direct_secondary != '')
            """,
            []
        ) {
            holders.add(user: try row["email"], holding: RoleAssignment(
                primary: StoreCoding.primaryRole(try row["direct_primary"]),
                secondary: StoreCoding.secondaryRoles(try row["direct_secondary"])
            ))
        }
        guard flags.groupBasedPermissions else { return holders }
        for row in try await connection.rows(
            """
            SELECT g.name, r.source, r.primary_role, r.secondary, u.email FROM group_roles r
            JOIN groups g ON g.id = r.group_id
            LEFT JOIN group_members m ON m.group_id = r.group_id AND m.source = r.source AND m.source IN ($1, $2)
            LEFT JOIN users u ON u.id = m.user_id AND u.active = \(.true)
            """,
            [sources.0, sources.1]
        ) {
            let source: String = try row["source"]
            guard let source = GroupSource(rawValue: source) else { continue }
            let email: String? = try row["email"]
            holders.add(
                .group(try row["name"], source),
                holding: RoleAssignment(
                    primary: StoreCoding.primaryRole(try row["primary_role"]), secondary: StoreCoding.secondaryRoles(try row["secondary"])
                ),
                people: email.map { [$0] } ?? []
            )
        }
        return holders
    }

    /// Groups carrying a mapping for at least one source (the 1,000 cap counts groups).
    static func mappedGroupCount(_ connection: some StoreConnection) async throws -> Int {
        try await connection.scalar("SELECT COUNT(DISTINCT group_id) FROM group_roles", as: Int.self) ?? 0
    }

    package func groups() async throws -> [GroupSummary] {
        try await read("list groups") { connection in
            try StoreRows.groupSummaries(try await connection.rows(
                """
                SELECT \(StoreRows.groupColumns), \(StoreRows.groupCountColumns)
                FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id ORDER BY g.name, g.id
                """,
                []
            ))
        }
    }

    package func group(named name: String) async throws -> GroupSummary? {
        try await read("read group") { connection in try await Self.group(connection, named: name) }
    }

    static func group(_ connection: some StoreConnection, named name: String) async throws -> GroupSummary? {
        try StoreRows.groupSummaries(try await connection.rows(
            """
            SELECT \(StoreRows.groupColumns), \(StoreRows.groupCountColumns)
            FROM groups g LEFT JOIN group_roles r ON r.group_id = g.id WHERE g.name = $1
            """,
            [name]
        )).first
    }

    package func ensureUser(email: String, at: Date) async throws -> UserRecord {
        try await write("create user") { connection in
            let key = StoreCoding.emailKey(email)
            try await connection.execute(
                "INSERT INTO users (id, email, email_key, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (email_key) DO NOTHING",
                [UUID().uuidString.lowercased(), email, key, StoreCoding.seconds(at)]
            )
            guard let user = try await connection.first("SELECT * FROM users WHERE email_key = $1", [key], StoreRows.user) else {
                throw StoreError(operation: "create user", reason: "the user vanished")
            }
            return user
        }
    }

    package func bootstrapSuperAdmin(userID: String, force: Bool, audit: AuditContext) async throws -> Bool {
        let sources = countedSources
        return try await lockedWrite("bootstrap super admin") { connection in
            let existing = try await Self.roleHolders(connection, sources: sources).holders(of: .primary(.superAdmin))
            if !existing.isEmpty, !force { return false }
            guard let user = try await connection.first("SELECT * FROM users WHERE id = $1", [userID], StoreRows.user) else {
                throw StoreError(operation: "bootstrap super admin", reason: "no such user")
            }
            var after = user.directRoles
            after.primary = .superAdmin
            try await connection.execute(
                "UPDATE users SET direct_primary = $1, active = \(.true) WHERE id = $2", [PrimaryRole.superAdmin.rawValue, userID]
            )
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .superAdminBootstrapped, target: user.email,
                before: StoreCoding.jsonValue(user.directRoles),
                after: .object([
                    "roles": StoreCoding.jsonValue(after),
                    "forced": .bool(force),
                    "existing_super_admins": .array(existing.map(\.description).sorted().map(JSONValue.string)),
                ])
            ))
            try await connection.announce(.policyChanged)
            return true
        }
    }

    package func setDefaultMemberPermissions(
        _ permissions: DefaultMemberPermissions, expectedVersion: Int?, audit: AuditContext
    ) async throws -> Int {
        try await lockedWrite("write default member permissions") { connection in
            try await Self.checkVersion(connection, SettingKey.defaultMemberPermissions, expected: expectedVersion)
            let before = try await Self.versionedSetting(connection, SettingKey.defaultMemberPermissions, default: DefaultMemberPermissions.allOn)
            guard before.value != permissions else { return before.version }
            try await Self.setSetting(connection, SettingKey.defaultMemberPermissions, permissions)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .defaultMemberPermissionsChanged, target: "default_member_permissions",
                before: StoreCoding.jsonValue(before.value), after: StoreCoding.jsonValue(permissions)
            ))
            try await connection.announce(.policyChanged)
            return try await Self.versionedSetting(connection, SettingKey.defaultMemberPermissions, default: permissions).version
        }
    }

    package func changeFeatureFlags(
        expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (FlagChangeState) -> Result<(FeatureFlags, FlagChangeImpact), RoleChangeRefusal>
    ) async throws -> Result<Versioned<FeatureFlags>, RoleChangeRefusal> {
        let sources = countedSources
        return try await lockedWrite("write feature flags") { connection in
            try await Self.checkVersion(connection, SettingKey.featureFlags, expected: expectedVersion)
            let current = try await Self.versionedSetting(connection, SettingKey.featureFlags, default: FeatureFlags.defaults)
            let users = try await connection.all("SELECT * FROM users WHERE active = \(.true) ORDER BY email_key", [], StoreRows.user)
            let identities = try await Self.identities(connection, users: users, sources: sources)
            let state = FlagChangeState(current: current, users: identities, holders: try await Self.roleHolders(connection, sources: sources))
            switch decide(state) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let (flags, impact)):
                guard flags != current.value else { return .success(current) }
                try await Self.setSetting(connection, SettingKey.featureFlags, flags)
                var after = StoreCoding.jsonValue(flags)
                if !impact.superAdminsDemoted.isEmpty, case .object(var fields) = after {
                    fields["super_admins_demoted"] = .array(impact.superAdminsDemoted.map(JSONValue.string))
                    after = .object(fields)
                }
                try await Self.appendAudit(connection, AuditEvent(
                    audit, action: .featureFlagsChanged, target: "feature_flags", before: StoreCoding.jsonValue(current.value), after: after
                ))
                try await connection.announce(.policyChanged)
                return .success(try await Self.versionedSetting(connection, SettingKey.featureFlags, default: flags))
            }
        }
    }

    package func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int) {
        try await lockedWrite("sign out everywhere") { connection in
            let at = StoreCoding.seconds(audit.at)
            let email = try await connection.scalar("SELECT email FROM users WHERE id = $1", [userID], as: String.self) ?? userID
            try await connection.execute("UPDATE users SET not_before = $1 WHERE id = $2", [at, userID])
            let sessions = try await Self.revokeSessions(connection, userID: userID, at: audit.at, by: audit.actor, reason: reason)
            let tokens = includeAPITokens ? try await Self.revokeAPITokens(connection, ownerID: userID, at: at) : 0
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .sessionsSignedOut, target: email, before: nil,
                after: .object([
                    "revoked_sessions": .number(Double(sessions.count)),
                    "revoked_tokens": .number(Double(tokens)),
                    "include_api_tokens": .bool(includeAPITokens),
                    "reason": .string(reason),
                ])
            ))
            try await connection.announce(.sessionsRevoked(sessions: sessions, users: [userID]))
            return (sessions, tokens)
        }
    }
}
