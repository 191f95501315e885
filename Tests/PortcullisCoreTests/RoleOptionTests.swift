import PortcullisCore
import Testing

@Suite("Role options: what the role editor offers")
struct RoleOptionTests {
    static func actor(_ primary: PrimaryRole) -> RoleChangePolicy.Actor {
        let role = EffectiveRole.resolve(direct: RoleAssignment(primary: primary), groups: [])
        return RoleChangePolicy.Actor(email: "actor@example.com", role: role, permissions: role.permissions(defaults: .allOn))
    }

    static func option(_ options: [RoleOption], _ role: RoleName) -> RoleOption? {
        options.first { $0.role == role }
    }

    /// The seed example's user: direct admin, IT-Admins (setup_admin + api_token_creator),
    /// Content-Team (member + answers_moderator).
    static let seedUser = RoleChangePolicy.UserState(
        email: "ada@example.com", direct: RoleAssignment(primary: .admin),
        groups: [
            GroupRecord(
                id: "g-it", name: "IT-Admins", mappings: [.oidc: RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator])],
                sources: [.oidc]
            ),
            GroupRecord(
                id: "g-content", name: "Content-Team", mappings: [.oidc: RoleAssignment(primary: .member, secondary: [.answersModerator])],
                sources: [.oidc]
            ),
        ],
        flags: .defaults
    )

    @Test("every role is listed once")
    func complete() {
        let options = RoleChangePolicy.options(actor: Self.actor(.superAdmin), target: Self.seedUser)
        #expect(options.count == PrimaryRole.allCases.count + SecondaryRole.allCases.count)
        #expect(Set(options.map(\.role)).count == options.count)
    }

    @Test("inherited roles are read-only, with the groups that give them and what to do")
    func inherited() throws {
        let options = RoleChangePolicy.options(actor: Self.actor(.superAdmin), target: Self.seedUser)
        let moderator = try #require(Self.option(options, .secondary(.answersModerator)))
        #expect(moderator.state == .inherited)
        #expect(moderator.groups == ["Content-Team"])
        #expect(moderator.reason?.contains("identity provider") == true)
        #expect(Self.option(options, .secondary(.apiTokenCreator))?.groups == ["IT-Admins"])
        // Below the inherited setup_admin the primary role cannot go.
        #expect(Self.option(options, .primary(.member))?.state == .inherited)
        #expect(Self.option(options, .primary(.setupAdmin))?.state == .allowed)
        #expect(Self.option(options, .primary(.admin))?.state == .allowed)
        #expect(Self.option(options, .primary(.superAdmin))?.state == .allowed)
        #expect(Self.option(options, .secondary(.adminSearch))?.state == .allowed)
    }

    @Test("an admin sees super-admin-only roles disabled, with the reason")
    func adminLimits() {
        let options = RoleChangePolicy.options(actor: Self.actor(.admin), target: Self.seedUser)
        #expect(Self.option(options, .primary(.superAdmin))?.state == .superAdminOnly)
        #expect(Self.option(options, .secondary(.adminSearch))?.state == .superAdminOnly)
        #expect(Self.option(options, .secondary(.sensitiveContentModerator))?.state == .superAdminOnly)
        #expect(Self.option(options, .secondary(.teamsModerator))?.state == .allowed)
        #expect(Self.option(options, .primary(.admin))?.state == .allowed)
    }

    @Test("an admin cannot touch a super admin at all; members cannot edit roles")
    func protectedAndForbidden() {
        let root = RoleChangePolicy.UserState(email: "root@example.com", direct: RoleAssignment(primary: .superAdmin), groups: [], flags: .defaults)
        #expect(RoleChangePolicy.options(actor: Self.actor(.admin), target: root).allSatisfy { $0.state == .superAdminProtected })
        #expect(RoleChangePolicy.options(actor: Self.actor(.member), target: Self.seedUser).allSatisfy { $0.state == .permissionRequired })
        #expect(RoleChangePolicy.options(actor: Self.actor(.setupAdmin), target: Self.seedUser).allSatisfy { $0.state == .permissionRequired })
    }

    @Test("with group-based permissions off, nothing is inherited")
    func flagOff() {
        var target = Self.seedUser
        target = RoleChangePolicy.UserState(email: target.email, direct: target.direct, groups: target.groups,
                                            flags: FeatureFlags(groupBasedPermissions: false))
        let options = RoleChangePolicy.options(actor: Self.actor(.superAdmin), target: target)
        #expect(options.allSatisfy { $0.state == .allowed })
    }
}
