/// Why a role change was refused: an HTTP status, a stable reason code and words for people.
public struct RoleChangeRefusal: Error, Hashable, Sendable {
    public enum Code: String, Hashable, Sendable {
        /// The actor lacks `teammates.edit_roles` (users) or `groups.map_roles` (groups).
        case permissionRequired = "permission_required"
        /// Only a super admin may grant or take away this role.
        case superAdminOnly = "super_admin_only"
        /// An admin may not change a principal that holds `super_admin`.
        case superAdminProtected = "super_admin_protected"
        /// The change would leave no person holding a role (directly or through a group).
        case lastRoleHolder = "last_role_holder"
        /// A role inherited from a group cannot be removed from the user.
        case roleInheritedFromGroup = "role_inherited_from_group"
        /// 1,000 groups already carry role mappings.
        case groupMappingLimit = "group_mapping_limit"
    }

    public let code: Code
    /// The role the refusal is about, where there is one.
    public let role: RoleName?
    public let message: String

    /// 403 for what the actor may not do, 409 for what the state forbids.
    public var status: Int {
        switch code {
        case .permissionRequired, .superAdminOnly, .superAdminProtected: 403
        case .lastRoleHolder, .roleInheritedFromGroup, .groupMappingLimit: 409
        }
    }

    public init(code: Code, role: RoleName? = nil, message: String) {
        self.code = code
        self.role = role
        self.message = message
    }
}

extension RoleChangeRefusal {
    /// 409 `last_role_holder`: taking `role` from `principal` would leave no person holding
    /// it; `people` are those who hold it through the principal now.
    public static func lastHolder(_ role: RoleName, principal: PrincipalReference, people: Set<String>) -> RoleChangeRefusal {
        let message: String
        switch principal {
        case .user(let email):
            message = "\(email) is the last person holding \(role.displayName); assign it to someone else first"
        case .group:
            let names = people.sorted()
            let listed = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
            message = "\(principal) gives \(role.displayName) to the last people holding it (\(listed)); assign it to someone else first"
        }
        return RoleChangeRefusal(code: .lastRoleHolder, role: role, message: message)
    }
}
