import PortcullisCore
import Testing

/// A group the user is in through `source` (sign-in claims unless told), mapped for that source.
private func group(_ name: String, _ assignment: RoleAssignment, source: GroupSource = .oidc) -> GroupRecord {
    GroupRecord(id: "id-" + name, name: name, mappings: [source: assignment], sources: [source])
}

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
                group("IT-Admins", RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator])),
                group("Content-Team", RoleAssignment(primary: .member, secondary: [.answersModerator])),
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
            groups: [group("G", RoleAssignment(primary: .setupAdmin, secondary: [.agentCreator]))]
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
            groups: [group("Admins", RoleAssignment(primary: .superAdmin))]
        )
        #expect(role.primary == .superAdmin)
        #expect(role.primarySource?.name == "Admins")
        #expect(role.secondary == [.pinsModerator])
    }

    @Test("with group_based_permissions off only direct assignments count")
    func flagOff() {
        let role = EffectiveRole.resolve(
            direct: RoleAssignment(primary: .setupAdmin),
            groups: [group("Admins", RoleAssignment(primary: .admin, secondary: [.agentCreator]))],
            flags: FeatureFlags(groupBasedPermissions: false)
        )
        #expect(role.primary == .setupAdmin)
        #expect(role.secondary.isEmpty)
        #expect(role.ignoredSources.map(\.name) == ["Admins"])
        #expect(role.inheritedSecondary.isEmpty)
    }

    @Test("groups without a mapping contribute nothing")
    func emptyMappings() {
        let role = EffectiveRole.resolve(direct: .none, groups: [group("Nobody", .none)])
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
            group("Insights", RoleAssignment(secondary: [.insightsModerator])),
        ])
        var defaults = DefaultMemberPermissions.allOn
        #expect(member.permissions(defaults: defaults).contains(.insightsView))
        #expect(member.permissions(defaults: defaults).contains(.answersCreate))
        defaults.answersCreate = false
        #expect(!member.permissions(defaults: defaults).contains(.answersCreate))
    }

    // MARK: issue 21: a mapping is for one source of membership

    @Test("a mapping counts only for a membership of the same group through the same source", arguments: [
        (GroupSource.scim, GroupSource.scim, true), (.oidc, .oidc, true), (.scim, .oidc, false), (.oidc, .scim, false),
    ])
    func mappingMatchesSource(mapped: GroupSource, member: GroupSource, counts: Bool) {
        let role = EffectiveRole.resolve(
            direct: .none,
            memberships: [GroupMembership(group: "Admins", source: member)],
            mappings: [GroupRoleMapping(group: "Admins", source: mapped, assignment: RoleAssignment(primary: .superAdmin))]
        )
        #expect(role.primary == (counts ? .superAdmin : .member))
        #expect(role.sources.map(\.groupSource) == (counts ? [mapped] : []))
    }

    @Test("an IdP claim naming a SCIM-mapped group grants nothing, however the names are spelled alike")
    func claimCannotBorrowSCIMMapping() {
        let scimAdmins = GroupRoleMapping(group: "Admins", source: .scim, assignment: RoleAssignment(primary: .superAdmin))
        let claimOnly = EffectiveRole.resolve(
            direct: .none, memberships: [GroupMembership(group: "Admins", source: .oidc)], mappings: [scimAdmins]
        )
        #expect(claimOnly.primary == .member)
        #expect(claimOnly.sources.isEmpty)
        // A membership of another group with the mapping's name under another source, or a
        // name that differs only in case, matches nothing either.
        let lookalike = EffectiveRole.resolve(
            direct: .none, memberships: [GroupMembership(group: "admins", source: .scim)], mappings: [scimAdmins]
        )
        #expect(lookalike.primary == .member)
    }

    @Test("a member through both sources gets each source's mapping, listed once per source")
    func bothSources() {
        let both = GroupRecord(
            id: "g", name: "Ops",
            mappings: [.scim: RoleAssignment(primary: .admin), .oidc: RoleAssignment(secondary: [.pinsModerator])],
            sources: [.scim, .oidc]
        )
        let role = EffectiveRole.resolve(direct: .none, groups: [both])
        #expect(role.primary == .admin)
        #expect(role.secondary == [.pinsModerator])
        #expect(role.sources.map(\.groupSource) == [.oidc, .scim])
        #expect(role.groups(granting: .primary(.admin)) == ["Ops"])
        var claimsOnly = both
        claimsOnly.sources = [.oidc]
        let fewer = EffectiveRole.resolve(direct: .none, groups: [claimsOnly])
        #expect(fewer.primary == .member)
        #expect(fewer.secondary == [.pinsModerator])
    }
}
