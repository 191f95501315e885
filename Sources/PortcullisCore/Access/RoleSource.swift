/// Where part of an effective role comes from.
public struct RoleSource: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case direct
        case group
    }

    public let kind: Kind
    /// `direct` for a direct assignment, the group's name for a group.
    public let name: String
    public let assignment: RoleAssignment
    /// For a group: how the user is a member of it (`oidc` claims, `scim`).
    public let membership: Set<GroupSource>

    public init(kind: Kind, name: String, assignment: RoleAssignment, membership: Set<GroupSource> = []) {
        self.kind = kind
        self.name = name
        self.assignment = assignment
        self.membership = membership
    }

    public static func direct(_ assignment: RoleAssignment) -> RoleSource {
        RoleSource(kind: .direct, name: "direct", assignment: assignment)
    }

    public static func group(_ name: String, _ assignment: RoleAssignment, membership: Set<GroupSource> = []) -> RoleSource {
        RoleSource(kind: .group, name: name, assignment: assignment, membership: membership)
    }
}
