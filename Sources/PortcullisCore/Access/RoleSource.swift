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
    /// For a group: the source of membership its mapping is for, and through which the user
    /// is a member (`oidc` claims, `scim`).
    public let groupSource: GroupSource?

    public init(kind: Kind, name: String, assignment: RoleAssignment, groupSource: GroupSource? = nil) {
        self.kind = kind
        self.name = name
        self.assignment = assignment
        self.groupSource = groupSource
    }

    public static func direct(_ assignment: RoleAssignment) -> RoleSource {
        RoleSource(kind: .direct, name: "direct", assignment: assignment)
    }

    public static func group(_ name: String, _ assignment: RoleAssignment, source: GroupSource) -> RoleSource {
        RoleSource(kind: .group, name: name, assignment: assignment, groupSource: source)
    }
}
