/// What one principal (a user directly, or an IdP group through its mapping) holds.
public struct RoleAssignment: Hashable, Sendable, Codable {
    /// `nil` means no primary role from this source.
    public var primary: PrimaryRole?
    public var secondary: Set<SecondaryRole>

    public init(primary: PrimaryRole? = nil, secondary: Set<SecondaryRole> = []) {
        self.primary = primary
        self.secondary = secondary
    }

    public static let none = RoleAssignment()

    enum CodingKeys: String, CodingKey { case primary, secondary }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        primary = try container.decodeIfPresent(PrimaryRole.self, forKey: .primary)
        secondary = Set(try container.decodeIfPresent([SecondaryRole].self, forKey: .secondary) ?? [])
    }

    /// Secondary roles sorted, so that equal assignments encode alike.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(primary, forKey: .primary)
        try container.encode(secondary.sorted(), forKey: .secondary)
    }

    public var isEmpty: Bool { primary == nil && secondary.isEmpty }

    /// The roles this source holds, by name. `member` counts only when assigned explicitly.
    public var roleNames: Set<RoleName> {
        var names = Set(secondary.map(RoleName.secondary))
        if let primary { names.insert(.primary(primary)) }
        return names
    }

    public func holds(_ role: RoleName) -> Bool {
        switch role {
        case .primary(let wanted): primary == wanted
        case .secondary(let wanted): secondary.contains(wanted)
        }
    }
}

/// Roles mapped to a group for one source of membership: they count for a user who is a member
/// of the group through that source, never for a group of the same name from the other source
/// (an IdP claim naming a group SCIM manages grants nothing).
public struct GroupRoleMapping: Hashable, Sendable {
    public var group: String
    public var source: GroupSource
    public var assignment: RoleAssignment

    public init(group: String, source: GroupSource, assignment: RoleAssignment) {
        self.group = group
        self.source = source
        self.assignment = assignment
    }

    /// At most this many groups may carry role mappings (SPEC §1.2).
    public static let limit = 1_000
}

/// A user's membership of a group through one source (the groups claim, or SCIM).
public struct GroupMembership: Hashable, Sendable {
    public var group: String
    public var source: GroupSource

    public init(group: String, source: GroupSource) {
        self.group = group
        self.source = source
    }
}
