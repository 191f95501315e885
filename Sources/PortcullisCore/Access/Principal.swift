/// A user or an IdP group: both may hold roles.
public enum PrincipalReference: Hashable, Sendable, CustomStringConvertible {
    case user(String)
    case group(String)

    public var description: String {
        switch self {
        case .user(let email): "user \(email)"
        case .group(let name): "group \(name)"
        }
    }
}

/// For each role, the principals that hold it by direct assignment or group mapping.
/// Deactivated users are not holders. `member` is the default and is never tracked.
public struct RoleHolders: Hashable, Sendable {
    public private(set) var holders: [RoleName: Set<PrincipalReference>]

    public init(_ holders: [RoleName: Set<PrincipalReference>] = [:]) {
        self.holders = holders
    }

    public mutating func add(_ principal: PrincipalReference, holding assignment: RoleAssignment) {
        for role in assignment.roleNames where role != .primary(.member) {
            holders[role, default: []].insert(principal)
        }
    }

    public func holders(of role: RoleName) -> Set<PrincipalReference> {
        holders[role] ?? []
    }

    /// The holders when groups no longer count (`group_based_permissions` off).
    public func withoutGroups() -> RoleHolders {
        RoleHolders(holders.mapValues { $0.filter { if case .user = $0 { true } else { false } } }.filter { !$0.value.isEmpty })
    }

    /// The holders once `principal` holds nothing any more.
    public func without(_ principal: PrincipalReference) -> RoleHolders {
        RoleHolders(holders.mapValues { $0.subtracting([principal]) }.filter { !$0.value.isEmpty })
    }

    /// Roles someone holds here that no one holds in `after`, in a stable order.
    public func rolesLost(in after: RoleHolders) -> [RoleName] {
        holders.filter { !$0.value.isEmpty && after.holders(of: $0.key).isEmpty }.map(\.key).sorted { $0.description < $1.description }
    }
}
