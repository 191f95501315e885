/// Whether a viewer may set one role on a teammate, and why not: what the role editor shows
/// next to each role (SPEC §1.4). The change itself is still decided by
/// ``RoleChangePolicy/changeUserRoles(actor:target:desired:holders:)``.
public struct RoleOption: Hashable, Sendable {
    public enum State: String, Hashable, Sendable, Codable {
        case allowed
        /// Given by a group: read-only on the user.
        case inherited
        /// Only a super admin may assign or remove it.
        case superAdminOnly = "super_admin_only"
        /// The teammate is a super admin and the viewer is not.
        case superAdminProtected = "super_admin_protected"
        /// The viewer may not edit roles at all.
        case permissionRequired = "permission_required"
    }

    public let role: RoleName
    public let state: State
    /// Words for people; `nil` when allowed.
    public let reason: String?
    /// For inherited roles, the groups that give it.
    public let groups: [String]

    public init(role: RoleName, state: State, reason: String? = nil, groups: [String] = []) {
        self.role = role
        self.state = state
        self.reason = reason
        self.groups = groups
    }
}

extension RoleChangePolicy {
    /// Every primary and secondary role, with whether `actor` may set it on `target`.
    public static func options(actor: Actor, target: UserState) -> [RoleOption] {
        let current = target.effective
        let all = PrimaryRole.allCases.map(RoleName.primary) + SecondaryRole.allCases.map(RoleName.secondary)
        guard actor.permissions.contains(.teammatesEditRoles) else {
            return all.map { RoleOption(role: $0, state: .permissionRequired, reason: "changing roles needs the teammates.edit_roles permission") }
        }
        if !actor.isSuperAdmin, current.primary == .superAdmin {
            return all.map { RoleOption(role: $0, state: .superAdminProtected, reason: "\(target.email) is a Super Admin; only a Super Admin may change their roles") }
        }
        let inheritedPrimary = current.inheritedPrimary
        let inheritedSecondary = current.inheritedSecondary
        return all.map { role in
            switch role {
            case .primary(let primary):
                if primary == .superAdmin, !actor.isSuperAdmin {
                    return RoleOption(role: role, state: .superAdminOnly, reason: "only a Super Admin may assign \(PrimaryRole.superAdmin.displayName)")
                }
                if let inherited = inheritedPrimary, primary < inherited {
                    let groups = current.groups(granting: .primary(inherited))
                    return RoleOption(
                        role: role, state: .inherited,
                        reason: "\(inherited.displayName) is inherited from \(groups.joined(separator: ", ")); "
                            + "change the group in your identity provider or the group's mapping",
                        groups: groups
                    )
                }
                return RoleOption(role: role, state: .allowed)
            case .secondary(let secondary):
                if inheritedSecondary.contains(secondary) {
                    let groups = current.groups(granting: role)
                    return RoleOption(
                        role: role, state: .inherited,
                        reason: "inherited from \(groups.joined(separator: ", ")); change the group in your identity provider or the group's mapping",
                        groups: groups
                    )
                }
                if secondary.isSuperAdminOnly, !actor.isSuperAdmin {
                    return RoleOption(role: role, state: .superAdminOnly, reason: "only a Super Admin may assign or remove \(secondary.displayName)")
                }
                return RoleOption(role: role, state: .allowed)
            }
        }
    }
}
