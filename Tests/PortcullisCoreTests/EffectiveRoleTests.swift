import PortcullisCore
import Testing

@Suite("Effective role (SPEC §1.2)")
struct EffectiveRoleTests {
    /// SPEC §1.2 and seed 002, verbatim: direct `admin`; group IT-Admins `setup_admin` +
    /// `api_token_creator`; group Content-Team `member` + `answers_moderator` → effective
    /// `admin` + {`api_token_creator`, `answers_moderator`}.
    @Test("the seed example")
    func seedExample() {
        let role = EffectiveRole.resolve(
            direct: RoleAssignment(primary: .admin),
            groups: [
                GroupRoleMapping(group: "IT-Admins", assignment: RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator])),
                GroupRoleMapping(group: "Content-Team", assignment: RoleAssignment(primary: .member, secondary: [.answersModerator])),
            ]
        )
        #expect(role.primary == .admin)
        #expect(role.secondary == [.apiTokenCreator, .answersModerator])
        #expect(role.primarySource == .direct(RoleAssignment(primary: .admin)))
        #expect(role.sources.map(\.name) == ["direct", "IT-Admins", "Content-Team"])
        #expect(role.sources(granting: .secondary(.apiTokenCreator)).map(\.name) == ["IT-Admins"])
        #expect(role.sources(granting: .secondary(.answersModerator)).map(\.name) == ["Content-Team"])
        #expect(role.inheritedSecondary == [.apiTokenCreator, .answersModerator])
        #expect(role.inheritedPrimary == .setupAdmin)
    }

    /// Seed 001: "directly assigned the Admin role and also belongs to a group with Setup Admin +
    /// Agent Creator, their effective permissions would be Admin (primary) plus Agent Creator".
    @Test("the second seed example")
    func secondSeedExample() {
        let role = EffectiveRole.resolve(
            direct: RoleAssignment(primary: .admin),
            groups: [GroupRoleMapping(group: "G", assignment: RoleAssignment(primary: .setupAdmin, secondary: [.agentCreator]))]
        )
        #expect(role.primary == .admin)
        #expect(role.secondary == [.agentCreator])
    }

    @Test("a user with no assignment is a member, with no sources")
    func defaultMember() {
        let role = EffectiveRole.resolve(direct: .none, groups: [])
        #expect(role.primary == .member)
        #expect(role.secondary.isEmpty)
        #expect(role.sources.isEmpty)
        #expect(role.primarySource == nil)
    }

    @Test("a group can raise the primary role above the direct one")
    func groupRaisesPrimary() {
        let role = EffectiveRole.resolve(
            direct: RoleAssignment(primary: .member, secondary: [.pinsModerator]),
            groups: [GroupRoleMapping(group: "Admins", assignment: RoleAssignment(primary: .superAdmin))]
        )
        #expect(role.primary == .superAdmin)
        #expect(role.primarySource?.name == "Admins")
        #expect(role.secondary == [.pinsModerator])
    }

    @Test("with group_based_permissions off only direct assignments count")
    func flagOff() {
        let role = EffectiveRole.resolve(
            direct: RoleAssignment(primary: .setupAdmin),
            groups: [GroupRoleMapping(group: "Admins", assignment: RoleAssignment(primary: .admin, secondary: [.agentCreator]))],
            flags: FeatureFlags(groupBasedPermissions: false)
        )
        #expect(role.primary == .setupAdmin)
        #expect(role.secondary.isEmpty)
        #expect(role.ignoredSources.map(\.name) == ["Admins"])
        #expect(role.inheritedSecondary.isEmpty)
    }

    @Test("groups without a mapping contribute nothing")
    func emptyMappings() {
        let role = EffectiveRole.resolve(direct: .none, groups: [GroupRoleMapping(group: "Nobody", assignment: .none)])
        #expect(role.sources.isEmpty)
    }

    @Test("role requirements: primary at least, or the secondary role")
    func satisfies() {
        let role = EffectiveRole(primary: .admin, secondary: [.adminSearch])
        #expect(role.satisfies(.primary(.member)))
        #expect(role.satisfies(.primary(.admin)))
        #expect(!role.satisfies(.primary(.superAdmin)))
        #expect(role.satisfies(.secondary(.adminSearch)))
        #expect(!role.satisfies(.secondary(.agentCreator)))
    }

    @Test("permissions follow the effective role and the switches")
    func permissions() {
        let member = EffectiveRole.resolve(direct: .none, groups: [
            GroupRoleMapping(group: "Insights", assignment: RoleAssignment(secondary: [.insightsModerator])),
        ])
        var defaults = DefaultMemberPermissions.allOn
        #expect(member.permissions(defaults: defaults).contains(.insightsView))
        #expect(member.permissions(defaults: defaults).contains(.answersCreate))
        defaults.answersCreate = false
        #expect(!member.permissions(defaults: defaults).contains(.answersCreate))
    }
}
