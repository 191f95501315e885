/// A user's effective role: the highest primary role among all sources and the union of all
/// secondary roles (SPEC §1.2), with the sources that produced it.
public struct EffectiveRole: Hashable, Sendable {
    public let primary: PrimaryRole
    public let secondary: Set<SecondaryRole>
    /// Every source that counted, direct first, then groups in the order given.
    public let sources: [RoleSource]
    /// Group sources left out because `group_based_permissions` is off.
    public let ignoredSources: [RoleSource]

    /// Merges the direct assignment with the mappings of the user's groups.
    ///
    /// A mapping counts only for a membership of the same group *through the same source*
    /// (SCIM, or the groups claim of sign-ins): a claim naming a group that is mapped for SCIM
    /// gives nothing, and the other way round. Mappings without a matching membership, and
    /// groups without a mapping, contribute nothing and are not listed. When
    /// `flags.groupBasedPermissions` is off, group sources are set aside in ``ignoredSources``.
    public static func resolve(
        direct: RoleAssignment,
        memberships: [GroupMembership],
        mappings: [GroupRoleMapping],
        flags: FeatureFlags = .defaults
    ) -> EffectiveRole {
        var counted: [RoleSource] = []
        var ignored: [RoleSource] = []
        if !direct.isEmpty {
            counted.append(.direct(direct))
        }
        let member = Set(memberships)
        for mapping in mappings where !mapping.assignment.isEmpty {
            guard member.contains(GroupMembership(group: mapping.group, source: mapping.source)) else { continue }
            let source = RoleSource.group(mapping.group, mapping.assignment, source: mapping.source)
            if flags.groupBasedPermissions {
                counted.append(source)
            } else {
                ignored.append(source)
            }
        }
        var primary = PrimaryRole.default
        var secondary: Set<SecondaryRole> = []
        for source in counted {
            if let candidate = source.assignment.primary, candidate > primary {
                primary = candidate
            }
            secondary.formUnion(source.assignment.secondary)
        }
        return EffectiveRole(primary: primary, secondary: secondary, sources: counted, ignoredSources: ignored)
    }

    /// The same for a user's groups as the store reads them (each with the sources of the
    /// user's membership and the group's mappings).
    public static func resolve(direct: RoleAssignment, groups: [GroupRecord], flags: FeatureFlags = .defaults) -> EffectiveRole {
        resolve(
            direct: direct, memberships: groups.flatMap(\.memberships), mappings: groups.flatMap(\.roleMappings), flags: flags
        )
    }

    public init(
        primary: PrimaryRole,
        secondary: Set<SecondaryRole> = [],
        sources: [RoleSource] = [],
        ignoredSources: [RoleSource] = []
    ) {
        self.primary = primary
        self.secondary = secondary
        self.sources = sources
        self.ignoredSources = ignoredSources
    }

    /// The sources that grant a role. An empty answer for `member` means it is the default.
    public func sources(granting role: RoleName) -> [RoleSource] {
        sources.filter { $0.assignment.holds(role) }
    }

    /// The source whose primary role won; `nil` when nothing assigns one (the default member).
    public var primarySource: RoleSource? {
        sources.first { $0.assignment.primary == primary }
    }

    /// The highest primary role that groups give; `nil` when no group gives one.
    public var inheritedPrimary: PrimaryRole? {
        sources.filter { $0.kind == .group }.compactMap(\.assignment.primary).max()
    }

    /// Secondary roles that groups give. These are read-only on the user.
    public var inheritedSecondary: Set<SecondaryRole> {
        sources.filter { $0.kind == .group }.reduce(into: []) { $0.formUnion($1.assignment.secondary) }
    }

    /// The names of the groups that give a role (each once, in the order of the sources).
    public func groups(granting role: RoleName) -> [String] {
        var seen = Set<String>()
        return sources(granting: role).filter { $0.kind == .group }.map(\.name).filter { seen.insert($0).inserted }
    }

    /// Everything this role may do, given the default member switches.
    public func permissions(defaults: DefaultMemberPermissions) -> PermissionSet {
        PermissionMatrix.permissions(primary: primary, secondary: secondary, defaults: defaults)
    }

    public func holds(_ role: RoleName) -> Bool {
        switch role {
        case .primary(let wanted): primary == wanted
        case .secondary(let wanted): secondary.contains(wanted)
        }
    }

    /// `require: { role: R }`: a primary role at least R, or the secondary role R.
    public func satisfies(_ role: RoleName) -> Bool {
        switch role {
        case .primary(let wanted): primary >= wanted
        case .secondary(let wanted): secondary.contains(wanted)
        }
    }
}
