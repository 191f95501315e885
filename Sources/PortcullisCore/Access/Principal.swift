/// A user, or an IdP group's mapping for one source of membership: both may hold roles.
public enum PrincipalReference: Hashable, Sendable, CustomStringConvertible {
    case user(String)
    case group(String, GroupSource)

    public var description: String {
        switch self {
        case .user(let email): "user \(email)"
        case .group(let name, let source): "group \(name) (\(source.wording))"
        }
    }
}

/// For each role, the principals that grant it (a user's direct assignment, a group's mapping)
/// and the people who hold it through each: the user themself, or the active members of the
/// group through the mapping's source. Deactivated users hold nothing, and neither does a
/// mapped group without members: the last-holder rail counts people, so a role with an empty
/// group mapped to it still loses its last holder when its last person goes. `member` is the
/// default and is never tracked.
public struct RoleHolders: Hashable, Sendable {
    /// Role → principal → the emails of the people holding the role through it (possibly none).
    public private(set) var grants: [RoleName: [PrincipalReference: Set<String>]]

    public init() {
        grants = [:]
    }

    private init(grants: [RoleName: [PrincipalReference: Set<String>]]) {
        self.grants = grants
    }

    /// A user's direct assignment: they hold its roles themself.
    public mutating func add(user email: String, holding assignment: RoleAssignment) {
        add(.user(email), holding: assignment, people: [email])
    }

    /// A principal granting `assignment` to `people` (a group's members; none for an empty group).
    public mutating func add(_ principal: PrincipalReference, holding assignment: RoleAssignment, people: Set<String>) {
        for role in assignment.roleNames where role != .primary(.member) {
            grants[role, default: [:]][principal, default: []].formUnion(people)
        }
    }

    /// The principals that give the role to at least one person.
    public func holders(of role: RoleName) -> Set<PrincipalReference> {
        Set((grants[role] ?? [:]).filter { !$0.value.isEmpty }.keys)
    }

    /// The people who hold the role, directly or through a group.
    public func people(holding role: RoleName) -> Set<String> {
        (grants[role] ?? [:]).values.reduce(into: []) { $0.formUnion($1) }
    }

    /// The holders when groups no longer count (`group_based_permissions` off).
    public func withoutGroups() -> RoleHolders {
        filtered { principal, people in
            if case .user = principal { people } else { [] }
        }
    }

    /// The holders once `principal` grants nothing any more.
    public func without(_ principal: PrincipalReference) -> RoleHolders {
        filtered { candidate, people in candidate == principal ? [] : people }
    }

    /// The holders once a person holds nothing any more (deactivated or deleted).
    public func without(person email: String) -> RoleHolders {
        filtered { _, people in people.subtracting([email]) }
    }

    /// The holders once `people` are no longer members through `principal` (SCIM taking
    /// members out of a group).
    public func removing(people removed: Set<String>, from principal: PrincipalReference) -> RoleHolders {
        filtered { candidate, people in candidate == principal ? people.subtracting(removed) : people }
    }

    /// Roles someone holds here that no person holds in `after`, in a stable order.
    public func rolesLost(in after: RoleHolders) -> [RoleName] {
        grants.keys.filter { !people(holding: $0).isEmpty && after.people(holding: $0).isEmpty }
            .sorted { $0.description < $1.description }
    }

    private func filtered(_ keep: (PrincipalReference, Set<String>) -> Set<String>) -> RoleHolders {
        RoleHolders(grants: grants.mapValues { principals in
            Dictionary(uniqueKeysWithValues: principals.map { ($0.key, keep($0.key, $0.value)) })
        })
    }
}
