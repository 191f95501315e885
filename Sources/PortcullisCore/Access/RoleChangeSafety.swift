/// The safety rails of SPEC §1.4 for changes that move effective roles without naming a role:
/// the `group_based_permissions` flag, SCIM removing members from a group or deleting it, and
/// SCIM deactivating, deleting or renaming a user.
/// They run the same checks as a direct role change:
///
/// - only a super admin may cause any super admin to lose the role;
/// - no role may lose its last holder (409 naming the role): the last *person* holding it,
///   directly or through a group (a mapped group without members holds nothing).
///
/// Pure functions of the state read inside the transaction that writes the change.
public enum RoleChangeSafety {
    /// Turning `group_based_permissions` from `current` to `proposed`. `users` are the active
    /// users with their groups; `holders` are the principals holding roles under `current`.
    public static func changeFeatureFlags(
        actorIsSuperAdmin: Bool, from current: FeatureFlags, to proposed: FeatureFlags, users: [UserIdentity], holders: RoleHolders
    ) -> Result<FlagChangeImpact, RoleChangeRefusal> {
        var demoted: [String] = []
        for user in users where user.user.active {
            let before = EffectiveRole.resolve(direct: user.user.directRoles, groups: user.groups, flags: current)
            let after = EffectiveRole.resolve(direct: user.user.directRoles, groups: user.groups, flags: proposed)
            if before.primary == .superAdmin, after.primary != .superAdmin { demoted.append(user.user.email) }
        }
        demoted.sort()
        if let first = demoted.first, !actorIsSuperAdmin {
            return .failure(RoleChangeRefusal(
                code: .superAdminProtected, role: .primary(.superAdmin),
                message: "turning group_based_permissions off would take super_admin from \(first)"
                    + (demoted.count > 1 ? " and \(demoted.count - 1) more" : "") + "; only a super admin may do that"
            ))
        }
        if current.groupBasedPermissions, !proposed.groupBasedPermissions, let role = holders.rolesLost(in: holders.withoutGroups()).first {
            return .failure(RoleChangeRefusal(
                code: .lastRoleHolder, role: role,
                message: "only groups hold \(role); turning group_based_permissions off would leave no one holding it. Assign it to a user first"
            ))
        }
        return .success(FlagChangeImpact(superAdminsDemoted: demoted))
    }

    /// SCIM taking users out of a group (removing members, replacing the member list, deleting
    /// the group). `losing` are the users leaving the group's SCIM membership, with their groups
    /// as they are now: they lose the group's `scim` mapping even when the groups claim names the
    /// group too (that membership carries only the `oidc` mapping). SCIM is never a super admin.
    /// Membership is the provider's word: taking a role held through the group from its last
    /// person is not refused (deprovisioning a leaver must not wait), as for a sign-in.
    public static func removeMembers(actorIsSuperAdmin: Bool, group: GroupRecord, losing: [UserIdentity]) -> RoleChangeRefusal? {
        if !actorIsSuperAdmin, group.mappings[.scim]?.primary == .superAdmin {
            for user in losing.sorted(by: { $0.user.email < $1.user.email }) where user.user.active {
                let before = user.effectiveRole
                let remaining = user.groups.map { candidate in
                    var candidate = candidate
                    if candidate.id == group.id { candidate.sources.remove(.scim) }
                    return candidate
                }
                let after = EffectiveRole.resolve(direct: user.user.directRoles, groups: remaining, flags: user.flags)
                if before.primary == .superAdmin, after.primary != .superAdmin {
                    return RoleChangeRefusal(
                        code: .superAdminProtected, role: .primary(.superAdmin),
                        message: "\(user.user.email) is a super admin through group \(group.name); only a super admin may take that away. "
                            + "Ask a super admin to assign the role directly or to change the group's mapping first"
                    )
                }
            }
        }
        return nil
    }

    /// SCIM changing a user itself: deactivating or deleting it (`deactivates`), or changing its
    /// email (`renames`). SCIM is never a super admin, so it may do neither to a super admin (an
    /// unlinked super admin renamed to an address the caller controls would be taken over at
    /// the next sign-in), and a deactivation may not take from the last person holding it a role
    /// the user holds directly (an empty group mapped to the role holds nothing). Roles held
    /// through groups are the provider's word and never keep a leaver active.
    public static func changeProvisionedUser(
        _ user: UserIdentity, deactivates: Bool, renames: Bool, holders: RoleHolders
    ) -> RoleChangeRefusal? {
        guard user.user.active, deactivates || renames else { return nil }
        let email = user.user.email
        if user.effectiveRole.primary == .superAdmin {
            return RoleChangeRefusal(
                code: .superAdminProtected, role: .primary(.superAdmin),
                message: "\(email) is a super admin; the identity provider may not \(deactivates ? "deactivate or delete" : "rename") "
                    + "a super admin. A super admin can take the role away in the console first"
            )
        }
        let direct = user.user.directRoles.roleNames
        if deactivates, let role = holders.rolesLost(in: holders.without(person: email)).first(where: direct.contains) {
            return .lastHolder(role, principal: .user(email), people: [email])
        }
        return nil
    }
}

/// What a flag change does to roles: recorded in its audit entry.
public struct FlagChangeImpact: Hashable, Sendable {
    public var superAdminsDemoted: [String]

    public init(superAdminsDemoted: [String] = []) {
        self.superAdminsDemoted = superAdminsDemoted
    }
}
