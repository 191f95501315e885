/// The assignment rules of SPEC §1.4 as pure functions of (actor, change, current state).
public enum RoleChangePolicy {
    /// Who is making the change.
    public struct Actor: Hashable, Sendable {
        public let email: String
        public let role: EffectiveRole
        public let permissions: PermissionSet

        public init(email: String, role: EffectiveRole, permissions: PermissionSet) {
            self.email = email
            self.role = role
            self.permissions = permissions
        }

        var isSuperAdmin: Bool { role.primary == .superAdmin }
    }

    /// The target user as the store holds it now: their groups with the sources of their
    /// membership and each group's mappings.
    public struct UserState: Hashable, Sendable {
        public let email: String
        public let direct: RoleAssignment
        public let groups: [GroupRecord]
        public let flags: FeatureFlags

        public init(email: String, direct: RoleAssignment, groups: [GroupRecord], flags: FeatureFlags) {
            self.email = email
            self.direct = direct
            self.groups = groups
            self.flags = flags
        }

        public var effective: EffectiveRole {
            EffectiveRole.resolve(direct: direct, groups: groups, flags: flags)
        }
    }

    /// `PUT /teammates/{email}/roles`: `desired` is the role the user should end up with, as the
    /// teammates page shows it (direct and inherited together). Roles that groups give must be in
    /// it; the answer is the direct assignment to store.
    public static func changeUserRoles(
        actor: Actor,
        target: UserState,
        desired: RoleAssignment,
        holders: RoleHolders
    ) -> Result<RoleAssignment, RoleChangeRefusal> {
        guard actor.permissions.contains(.teammatesEditRoles) else {
            return .failure(RoleChangeRefusal(
                code: .permissionRequired,
                message: "changing roles needs the teammates.edit_roles permission"
            ))
        }
        let desiredPrimary = desired.primary ?? .member
        let current = target.effective

        // Roles inherited from groups are read-only on the user.
        if let inherited = current.inheritedPrimary, desiredPrimary < inherited {
            return .failure(inheritedRefusal(.primary(inherited), groups: current.groups(granting: .primary(inherited))))
        }
        let inheritedSecondary = current.inheritedSecondary
        if let missing = inheritedSecondary.subtracting(desired.secondary).sorted().first {
            return .failure(inheritedRefusal(.secondary(missing), groups: current.groups(granting: .secondary(missing))))
        }

        // The direct assignment that produces the desired role.
        var newDirect = RoleAssignment()
        let withoutDirectPrimary = EffectiveRole.resolve(
            direct: RoleAssignment(primary: target.direct.primary),
            groups: target.groups,
            flags: target.flags
        ).primary
        newDirect.primary = withoutDirectPrimary == desiredPrimary ? target.direct.primary : desiredPrimary
        newDirect.secondary = desired.secondary.filter {
            target.direct.secondary.contains($0) || !inheritedSecondary.contains($0)
        }

        if !actor.isSuperAdmin {
            if current.primary == .superAdmin {
                return .failure(superAdminProtected(.user(target.email)))
            }
            if let refusal = superAdminOnlyRefusal(from: target.direct, to: newDirect) {
                return .failure(refusal)
            }
        }
        if let refusal = lastHolderRefusal(.user(target.email), from: target.direct, to: newDirect, holders: holders) {
            return .failure(refusal)
        }
        return .success(newDirect)
    }

    /// `PUT /groups/{name}/roles {source, …}`: the group's mapping for one source of
    /// membership; `desired == nil` (or empty) removes it. `mappings` are the group's mappings
    /// now, for every source.
    public static func changeGroupMapping(
        actor: Actor,
        group: String,
        source: GroupSource,
        mappings: [GroupSource: RoleAssignment],
        desired: RoleAssignment?,
        mappedGroupCount: Int,
        holders: RoleHolders
    ) -> Result<RoleAssignment?, RoleChangeRefusal> {
        guard actor.permissions.contains(.groupsMapRoles) else {
            return .failure(RoleChangeRefusal(
                code: .permissionRequired,
                message: "mapping groups to roles needs the groups.map_roles permission"
            ))
        }
        let principal = PrincipalReference.group(group, source)
        let old = mappings[source] ?? .none
        let new = desired.flatMap { $0.isEmpty ? nil : $0 }
        if !actor.isSuperAdmin {
            if old.primary == .superAdmin {
                return .failure(superAdminProtected(principal))
            }
            if let refusal = superAdminOnlyRefusal(from: old, to: new ?? .none) {
                return .failure(refusal)
            }
        }
        // The cap counts groups: a second source's mapping on a mapped group adds none.
        if mappings.values.allSatisfy(\.isEmpty), new != nil, mappedGroupCount >= GroupRoleMapping.limit {
            return .failure(RoleChangeRefusal(
                code: .groupMappingLimit,
                message: "roles can be mapped to at most \(GroupRoleMapping.limit) groups; remove a mapping first"
            ))
        }
        if let refusal = lastHolderRefusal(principal, from: old, to: new ?? .none, holders: holders) {
            return .failure(refusal)
        }
        return .success(new)
    }

    // MARK: - Rules

    private static func superAdminProtected(_ principal: PrincipalReference) -> RoleChangeRefusal {
        RoleChangeRefusal(
            code: .superAdminProtected,
            role: .primary(.superAdmin),
            message: "\(principal) holds super_admin; only a super admin may change it"
        )
    }

    /// Granting or removing `super_admin`, `admin_search` or `sensitive_content_moderator`.
    private static func superAdminOnlyRefusal(from old: RoleAssignment, to new: RoleAssignment) -> RoleChangeRefusal? {
        if new.primary == .superAdmin, old.primary != .superAdmin {
            return RoleChangeRefusal(
                code: .superAdminOnly,
                role: .primary(.superAdmin),
                message: "only a Super Admin may assign the Super Admin role"
            )
        }
        let changed = old.secondary.symmetricDifference(new.secondary)
        if let role = changed.filter(\.isSuperAdminOnly).sorted().first {
            return RoleChangeRefusal(
                code: .superAdminOnly,
                role: .secondary(role),
                message: "only a Super Admin may assign or remove the \(role.displayName) role"
            )
        }
        return nil
    }

    /// A role `principal` stops granting, when that leaves no person holding it (an empty
    /// group mapped to the role holds nothing).
    private static func lastHolderRefusal(
        _ principal: PrincipalReference,
        from old: RoleAssignment,
        to new: RoleAssignment,
        holders: RoleHolders
    ) -> RoleChangeRefusal? {
        let removed = old.roleNames.subtracting(new.roleNames).subtracting([.primary(.member)])
        let after = holders.without(principal)
        for role in removed.sorted(by: { $0.description < $1.description }) {
            if !holders.people(holding: role).isEmpty, after.people(holding: role).isEmpty {
                return .lastHolder(role, principal: principal, people: holders.people(holding: role))
            }
        }
        return nil
    }

    private static func inheritedRefusal(_ role: RoleName, groups: [String]) -> RoleChangeRefusal {
        RoleChangeRefusal(
            code: .roleInheritedFromGroup,
            role: role,
            message: "\(role.displayName) is inherited from group \(groups.joined(separator: ", ")); "
                + "change the group membership in your identity provider or the group's mapping"
        )
    }
}
