import Foundation
import PortcullisCore
import Testing

private func actor(_ primary: PrimaryRole, _ email: String = "actor@example.com") -> RoleChangePolicy.Actor {
    let role = EffectiveRole.resolve(direct: RoleAssignment(primary: primary), groups: [])
    return RoleChangePolicy.Actor(email: email, role: role, permissions: role.permissions(defaults: .allOn))
}

private func user(
    _ email: String,
    _ direct: RoleAssignment = .none,
    groups: [GroupRecord] = [],
    flags: FeatureFlags = .defaults
) -> RoleChangePolicy.UserState {
    RoleChangePolicy.UserState(email: email, direct: direct, groups: groups, flags: flags)
}

/// A group the user is in through the groups claim, mapped for it.
private func group(_ name: String, _ assignment: RoleAssignment) -> GroupRecord {
    GroupRecord(id: "id-" + name, name: name, mappings: [.oidc: assignment], sources: [.oidc])
}

/// The people a principal gives its roles to in these tests: the user, or one member.
private func people(of principal: PrincipalReference) -> Set<String> {
    switch principal {
    case .user(let email): [email]
    case .group(let name, _): ["\(name.lowercased())-member@example.com"]
    }
}

/// A state with two super admins, two admins and one holder of each secondary role unless told.
private func holders(_ extra: [(PrincipalReference, RoleAssignment)] = []) -> RoleHolders {
    var holders = RoleHolders()
    holders.add(user: "root1@example.com", holding: RoleAssignment(primary: .superAdmin))
    holders.add(user: "root2@example.com", holding: RoleAssignment(primary: .superAdmin))
    holders.add(user: "admin1@example.com", holding: RoleAssignment(primary: .admin))
    holders.add(user: "admin2@example.com", holding: RoleAssignment(primary: .admin))
    holders.add(user: "setup@example.com", holding: RoleAssignment(primary: .setupAdmin))
    holders.add(user: "mods@example.com", holding: RoleAssignment(secondary: Set(SecondaryRole.allCases)))
    for (principal, assignment) in extra { holders.add(principal, holding: assignment, people: people(of: principal)) }
    return holders
}

private func refusal<T>(_ result: Result<T, RoleChangeRefusal>) -> RoleChangeRefusal? {
    if case .failure(let refusal) = result { return refusal }
    return nil
}

@Suite("Who may assign what (SPEC §1.4)")
struct RoleChangePolicyTests {
    // MARK: super admins

    @Test("a super admin may assign any role to a user", arguments: PrimaryRole.allCases)
    func superAdminAssignsAnyPrimary(_ primary: PrimaryRole) throws {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin, "root1@example.com"), target: user("new@example.com"),
            desired: RoleAssignment(primary: primary, secondary: Set(SecondaryRole.allCases)), holders: holders()
        )
        #expect(try result.get().secondary == Set(SecondaryRole.allCases))
        #expect((try? result.get().primary) == (primary == .member ? nil : primary))
    }

    @Test("a super admin may map a group to super_admin and to the restricted secondary roles")
    func superAdminMapsGroups() {
        let result = RoleChangePolicy.changeGroupMapping(
            actor: actor(.superAdmin), group: "Security", source: .oidc,
            mappings: [:], desired: RoleAssignment(primary: .superAdmin, secondary: [.adminSearch, .sensitiveContentModerator]),
            mappedGroupCount: 3, holders: holders()
        )
        #expect((try? result.get()) == RoleAssignment(primary: .superAdmin, secondary: [.adminSearch, .sensitiveContentModerator]))
    }

    @Test("a super admin may downgrade another super admin when another remains")
    func superAdminDowngradesSuperAdmin() {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin, "root1@example.com"),
            target: user("root2@example.com", RoleAssignment(primary: .superAdmin)),
            desired: RoleAssignment(primary: .admin), holders: holders()
        )
        #expect((try? result.get()) == RoleAssignment(primary: .admin))
    }

    // MARK: admins

    @Test("an admin may assign admin, setup_admin and member", arguments: [PrimaryRole.admin, .setupAdmin, .member])
    func adminAssignsLowerPrimaries(_ primary: PrimaryRole) {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("someone@example.com", RoleAssignment(primary: .setupAdmin)),
            desired: RoleAssignment(primary: primary), holders: holders()
        )
        #expect(refusal(result) == nil)
    }

    @Test("an admin may assign every secondary role but admin_search and sensitive_content_moderator",
          arguments: SecondaryRole.allCases)
    func adminAssignsSecondary(_ role: SecondaryRole) {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("someone@example.com"),
            desired: RoleAssignment(primary: .member, secondary: [role]), holders: holders()
        )
        if role == .adminSearch || role == .sensitiveContentModerator {
            #expect(refusal(result)?.code == .superAdminOnly)
            #expect(refusal(result)?.status == 403)
            #expect(refusal(result)?.role == .secondary(role))
        } else {
            #expect((try? result.get()) == RoleAssignment(secondary: [role]))
        }
    }

    @Test("an admin may not remove admin_search either")
    func adminRemovesRestrictedSecondary() {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("eDiscovery@example.com", RoleAssignment(secondary: [.adminSearch])),
            desired: RoleAssignment(primary: .member), holders: holders([(.user("eDiscovery@example.com"), RoleAssignment(secondary: [.adminSearch]))])
        )
        #expect(refusal(result)?.code == .superAdminOnly)
    }

    @Test("an admin keeping a restricted secondary role unchanged may edit other roles")
    func adminKeepsRestrictedSecondary() {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("eDiscovery@example.com", RoleAssignment(secondary: [.adminSearch])),
            desired: RoleAssignment(primary: .member, secondary: [.adminSearch, .pinsModerator]), holders: holders()
        )
        #expect((try? result.get()) == RoleAssignment(secondary: [.adminSearch, .pinsModerator]))
    }

    @Test("an admin may never assign super_admin, to a user or a group")
    func adminCannotAssignSuperAdmin() {
        let toUser = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("someone@example.com"),
            desired: RoleAssignment(primary: .superAdmin), holders: holders()
        )
        #expect(refusal(toUser)?.code == .superAdminOnly)
        #expect(refusal(toUser)?.status == 403)
        let toGroup = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "Admins", source: .oidc, mappings: [.oidc: RoleAssignment(primary: .admin)],
            desired: RoleAssignment(primary: .superAdmin), mappedGroupCount: 1, holders: holders()
        )
        #expect(refusal(toGroup)?.code == .superAdminOnly)
    }

    @Test("an admin cannot downgrade or remove a super admin user")
    func adminCannotTouchSuperAdminUser() {
        for desired in [RoleAssignment(primary: .admin), RoleAssignment(primary: .member), RoleAssignment(primary: .superAdmin, secondary: [.pinsModerator])] {
            let result = RoleChangePolicy.changeUserRoles(
                actor: actor(.admin), target: user("root2@example.com", RoleAssignment(primary: .superAdmin)),
                desired: desired, holders: holders()
            )
            #expect(refusal(result)?.code == .superAdminProtected)
            #expect(refusal(result)?.status == 403)
        }
    }

    @Test("an admin cannot downgrade or remove a super admin group mapping")
    func adminCannotTouchSuperAdminGroup() {
        for desired in [RoleAssignment(primary: .admin), nil] {
            let result = RoleChangePolicy.changeGroupMapping(
                actor: actor(.admin), group: "Security", source: .oidc, mappings: [.oidc: RoleAssignment(primary: .superAdmin)],
                desired: desired, mappedGroupCount: 5, holders: holders([(.group("Security", .oidc), RoleAssignment(primary: .superAdmin))])
            )
            #expect(refusal(result)?.code == .superAdminProtected)
        }
    }

    @Test("an admin cannot change a user who is a super admin through a group")
    func adminCannotTouchInheritedSuperAdmin() {
        let target = user("inherits@example.com", groups: [group("Security", RoleAssignment(primary: .superAdmin))])
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: target,
            desired: RoleAssignment(primary: .superAdmin, secondary: [.pinsModerator]), holders: holders()
        )
        #expect(refusal(result)?.code == .superAdminProtected)
    }

    // MARK: members and setup admins

    @Test("members and setup admins may not change roles", arguments: [PrimaryRole.member, .setupAdmin])
    func lowerRolesCannotAssign(_ primary: PrimaryRole) {
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(primary), target: user("someone@example.com"),
            desired: RoleAssignment(primary: .member, secondary: [.pinsModerator]), holders: holders()
        )
        #expect(refusal(result)?.code == .permissionRequired)
        #expect(refusal(result)?.status == 403)
        let group = RoleChangePolicy.changeGroupMapping(
            actor: actor(primary), group: "G", source: .oidc, mappings: [:], desired: RoleAssignment(secondary: [.pinsModerator]),
            mappedGroupCount: 0, holders: holders()
        )
        #expect(refusal(group)?.code == .permissionRequired)
    }

    // MARK: last holder

    @Test("removing the last super admin is refused with 409 naming the role")
    func lastSuperAdmin() {
        var onlyOne = RoleHolders()
        onlyOne.add(user: "root@example.com", holding: RoleAssignment(primary: .superAdmin))
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin, "root@example.com"), target: user("root@example.com", RoleAssignment(primary: .superAdmin)),
            desired: RoleAssignment(primary: .admin), holders: onlyOne
        )
        #expect(refusal(result)?.code == .lastRoleHolder)
        #expect(refusal(result)?.status == 409)
        #expect(refusal(result)?.role == .primary(.superAdmin))
        #expect(refusal(result)?.message.contains("Super Admin") == true)
    }

    @Test("a group with members counts as a holder: the last user may go when a group gives someone the role")
    func groupHolderCounts() {
        var state = RoleHolders()
        state.add(user: "root@example.com", holding: RoleAssignment(primary: .superAdmin))
        state.add(.group("Security", .oidc), holding: RoleAssignment(primary: .superAdmin), people: ["sec@example.com"])
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin, "root@example.com"), target: user("root@example.com", RoleAssignment(primary: .superAdmin)),
            desired: RoleAssignment(primary: .admin), holders: state
        )
        #expect(refusal(result) == nil)
    }

    /// Issue 21: the rail counts people. An empty group mapped to the role is no holder, so
    /// the last person's role cannot go, directly or by removing the mapping they hold it by.
    @Test("a mapped group without members is not a holder: the last person may not lose the role")
    func emptyGroupIsNoHolder() {
        var state = RoleHolders()
        state.add(user: "root@example.com", holding: RoleAssignment(primary: .superAdmin))
        state.add(.group("Security", .scim), holding: RoleAssignment(primary: .superAdmin), people: [])
        #expect(state.holders(of: .primary(.superAdmin)) == [.user("root@example.com")])
        let direct = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin, "root@example.com"), target: user("root@example.com", RoleAssignment(primary: .superAdmin)),
            desired: RoleAssignment(primary: .admin), holders: state
        )
        #expect(refusal(direct)?.code == .lastRoleHolder)
        #expect(refusal(direct)?.role == .primary(.superAdmin))
        #expect(refusal(direct)?.message.contains("last person") == true)
        // Through a group: the only person holds the role by a mapping; another, empty, group
        // mapped to it does not let that mapping go.
        var viaGroup = RoleHolders()
        viaGroup.add(.group("Pilots", .oidc), holding: RoleAssignment(secondary: [.pinsModerator]), people: ["ada@example.com"])
        viaGroup.add(.group("Pilots", .scim), holding: RoleAssignment(secondary: [.pinsModerator]), people: [])
        viaGroup.add(.group("Empty", .oidc), holding: RoleAssignment(secondary: [.pinsModerator]), people: [])
        let mapping = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "Pilots", source: .oidc, mappings: [.oidc: RoleAssignment(secondary: [.pinsModerator])],
            desired: nil, mappedGroupCount: 2, holders: viaGroup
        )
        #expect(refusal(mapping)?.code == .lastRoleHolder)
        #expect(refusal(mapping)?.message.contains("ada@example.com") == true)
        // Removing the empty group's mapping takes the role from nobody.
        let empty = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "Empty", source: .oidc, mappings: [.oidc: RoleAssignment(secondary: [.pinsModerator])],
            desired: nil, mappedGroupCount: 2, holders: viaGroup
        )
        #expect(refusal(empty) == nil)
        // A role nobody holds (only an empty group is mapped to it) can lose that mapping too.
        var nobody = RoleHolders()
        nobody.add(.group("Empty", .oidc), holding: RoleAssignment(secondary: [.insightsModerator]), people: [])
        #expect(nobody.rolesLost(in: nobody.without(.group("Empty", .oidc))).isEmpty)
    }

    @Test("removing the last group that holds a role is refused")
    func lastGroupHolder() {
        var state = RoleHolders()
        state.add(.group("Insights", .oidc), holding: RoleAssignment(secondary: [.insightsModerator]), people: ["i@example.com"])
        let result = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "Insights", source: .oidc, mappings: [.oidc: RoleAssignment(secondary: [.insightsModerator])],
            desired: nil, mappedGroupCount: 1, holders: state
        )
        #expect(refusal(result)?.code == .lastRoleHolder)
        #expect(refusal(result)?.role == .secondary(.insightsModerator))
    }

    @Test("the last holder of a secondary role cannot lose it")
    func lastSecondaryHolder() {
        var state = holders()
        state.add(user: "pins@example.com", holding: RoleAssignment(secondary: [.pinsModerator]))
        var only = RoleHolders()
        only.add(user: "pins@example.com", holding: RoleAssignment(secondary: [.pinsModerator]))
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("pins@example.com", RoleAssignment(secondary: [.pinsModerator])),
            desired: RoleAssignment(primary: .member), holders: only
        )
        #expect(refusal(result)?.code == .lastRoleHolder)
        let withOthers = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: user("pins@example.com", RoleAssignment(secondary: [.pinsModerator])),
            desired: RoleAssignment(primary: .member), holders: state
        )
        #expect(refusal(withOthers) == nil)
    }

    // MARK: inherited roles

    @Test("removing a role inherited from a group is refused with 409 pointing at the group")
    func inheritedSecondaryIsReadOnly() {
        let target = user(
            "seed@example.com", RoleAssignment(primary: .admin),
            groups: [
                group("IT-Admins", RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator])),
                group("Content-Team", RoleAssignment(primary: .member, secondary: [.answersModerator])),
            ]
        )
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin), target: target,
            desired: RoleAssignment(primary: .admin, secondary: [.answersModerator]), holders: holders()
        )
        #expect(refusal(result)?.code == .roleInheritedFromGroup)
        #expect(refusal(result)?.status == 409)
        #expect(refusal(result)?.role == .secondary(.apiTokenCreator))
        #expect(refusal(result)?.message.contains("IT-Admins") == true)
        #expect(refusal(result)?.message.contains("identity provider") == true)
    }

    @Test("a primary role below the one a group gives is refused")
    func inheritedPrimaryIsReadOnly() {
        let target = user("x@example.com", groups: [group("Admins", RoleAssignment(primary: .admin))])
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin), target: target, desired: RoleAssignment(primary: .member), holders: holders()
        )
        #expect(refusal(result)?.code == .roleInheritedFromGroup)
        #expect(refusal(result)?.role == .primary(.admin))
    }

    @Test("keeping inherited roles while changing direct ones stores only the direct part")
    func directPartOnly() {
        let target = user(
            "seed@example.com", RoleAssignment(primary: .admin),
            groups: [group("IT-Admins", RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator]))]
        )
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.superAdmin), target: target,
            desired: RoleAssignment(primary: .admin, secondary: [.apiTokenCreator, .pinsModerator]), holders: holders()
        )
        #expect((try? result.get()) == RoleAssignment(primary: .admin, secondary: [.pinsModerator]))
    }

    @Test("with the flag off, group roles are not inherited and so not read-only")
    func flagOffNoInheritance() {
        let target = user(
            "x@example.com", groups: [group("Mods", RoleAssignment(secondary: [.pinsModerator]))],
            flags: FeatureFlags(groupBasedPermissions: false)
        )
        let result = RoleChangePolicy.changeUserRoles(
            actor: actor(.admin), target: target, desired: RoleAssignment(primary: .member), holders: holders()
        )
        #expect(refusal(result) == nil)
    }

    // MARK: the 1,000-group cap

    @Test("the 1,001st group mapping is refused; editing or removing at the cap is not")
    func groupCap() {
        let add = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "G1001", source: .oidc, mappings: [:], desired: RoleAssignment(secondary: [.pinsModerator]),
            mappedGroupCount: 1_000, holders: holders()
        )
        #expect(refusal(add)?.code == .groupMappingLimit)
        #expect(refusal(add)?.status == 409)
        let thousandth = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "G1000", source: .oidc, mappings: [:], desired: RoleAssignment(secondary: [.pinsModerator]),
            mappedGroupCount: 999, holders: holders()
        )
        #expect(refusal(thousandth) == nil)
        let edit = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "G1", source: .oidc, mappings: [.oidc: RoleAssignment(primary: .member)],
            desired: RoleAssignment(primary: .setupAdmin), mappedGroupCount: 1_000, holders: holders()
        )
        #expect(refusal(edit) == nil)
        // The cap counts groups: a mapped group's mapping for its other source adds none.
        let otherSource = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "G1", source: .scim, mappings: [.oidc: RoleAssignment(primary: .member)],
            desired: RoleAssignment(primary: .setupAdmin), mappedGroupCount: 1_000, holders: holders()
        )
        #expect(refusal(otherSource) == nil)
        let remove = RoleChangePolicy.changeGroupMapping(
            actor: actor(.admin), group: "G1", source: .oidc, mappings: [.oidc: RoleAssignment(primary: .setupAdmin)],
            desired: nil, mappedGroupCount: 1_000, holders: holders([(.group("G1", .oidc), RoleAssignment(primary: .setupAdmin))])
        )
        #expect((try? remove.get()) == .some(nil))
    }
}

/// The rails on changes that move effective roles without naming one (issue 12).
@Suite("Safety rails on flags and memberships")
struct RoleChangeSafetyTests {
    static func identity(_ email: String, direct: RoleAssignment = .none, groups: [GroupRecord] = [], active: Bool = true) -> UserIdentity {
        UserIdentity(
            user: UserRecord(id: email, email: email, active: active, directRoles: direct, createdAt: Date(timeIntervalSince1970: 0)),
            groups: groups, defaults: .allOn, flags: .defaults
        )
    }

    /// Groups as a user reads them: a member through SCIM, mapped for SCIM.
    static let owners = GroupRecord(id: "g-owners", name: "Owners", mappings: [.scim: RoleAssignment(primary: .superAdmin)], sources: [.scim])
    static let mods = GroupRecord(id: "g-mods", name: "Mods", mappings: [.scim: RoleAssignment(secondary: [.pinsModerator])], sources: [.scim])

    static var holders: RoleHolders {
        var holders = RoleHolders()
        holders.add(user: "root@example.com", holding: RoleAssignment(primary: .superAdmin))
        holders.add(.group("Owners", .scim), holding: RoleAssignment(primary: .superAdmin), people: ["ada@example.com"])
        holders.add(.group("Mods", .scim), holding: RoleAssignment(secondary: [.pinsModerator]), people: ["m@example.com"])
        return holders
    }

    @Test("the flag: an admin may not demote a super admin; a super admin may, unless a role loses its last holder")
    func flag() throws {
        let users = [
            Self.identity("root@example.com", direct: RoleAssignment(primary: .superAdmin)),
            Self.identity("ada@example.com", groups: [Self.owners]),
            Self.identity("gone@example.com", groups: [Self.owners], active: false),
        ]
        let off = FeatureFlags(groupBasedPermissions: false)
        let admin = RoleChangeSafety.changeFeatureFlags(actorIsSuperAdmin: false, from: .defaults, to: off, users: users, holders: Self.holders)
        guard case .failure(let refusal) = admin else { Issue.record("an admin demoted a super admin"); return }
        #expect(refusal.code == .superAdminProtected && refusal.status == 403 && refusal.message.contains("ada@example.com"))
        let lastHolder = RoleChangeSafety.changeFeatureFlags(actorIsSuperAdmin: true, from: .defaults, to: off, users: users, holders: Self.holders)
        guard case .failure(let holder) = lastHolder else { Issue.record("pins_moderator lost its last holder"); return }
        #expect(holder.code == .lastRoleHolder && holder.role == .secondary(.pinsModerator) && holder.status == 409)
        var withDirect = Self.holders
        withDirect.add(user: "root@example.com", holding: RoleAssignment(secondary: [.pinsModerator]))
        let allowed = try RoleChangeSafety.changeFeatureFlags(actorIsSuperAdmin: true, from: .defaults, to: off, users: users, holders: withDirect).get()
        #expect(allowed.superAdminsDemoted == ["ada@example.com"], "deactivated users are not counted")
        // Turning the flag on takes nothing away.
        #expect(throws: Never.self) {
            try RoleChangeSafety.changeFeatureFlags(actorIsSuperAdmin: false, from: off, to: .defaults, users: users, holders: RoleHolders()).get()
        }
        #expect(RoleHolders().rolesLost(in: RoleHolders()).isEmpty)
        #expect(Self.holders.withoutGroups().holders(of: .primary(.superAdmin)) == [.user("root@example.com")])
        // Only people count: a role whose groups have no members has no holder to lose.
        var empty = RoleHolders()
        empty.add(.group("Empty", .oidc), holding: RoleAssignment(secondary: [.insightsModerator]), people: [])
        #expect(empty.rolesLost(in: empty.withoutGroups()).isEmpty)
    }

    @Test("memberships: SCIM may not take super_admin away; other roles and other sources are fine")
    func membership() {
        let ada = Self.identity("ada@example.com", groups: [Self.owners])
        let both = Self.identity("bo@example.com", direct: RoleAssignment(primary: .superAdmin), groups: [Self.owners])
        let refused = RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: Self.owners, losing: [both, ada])
        #expect(refused?.code == .superAdminProtected && refused?.message.contains("ada@example.com") == true)
        #expect(RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: Self.owners, losing: [both]) == nil,
                "a direct super admin stays one")
        #expect(RoleChangeSafety.removeMembers(actorIsSuperAdmin: true, group: Self.owners, losing: [ada]) == nil)
        #expect(RoleChangeSafety.removeMembers(
            actorIsSuperAdmin: false, group: Self.mods, losing: [Self.identity("m@example.com", groups: [Self.mods])]
        ) == nil)
        var flagsOff = ada
        flagsOff.flags = FeatureFlags(groupBasedPermissions: false)
        #expect(RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: Self.owners, losing: [flagsOff]) == nil)
        // A member through the groups claim too still loses the SCIM mapping: that membership
        // carries only the group's oidc mapping (here none).
        var dual = Self.owners
        dual.sources = [.scim, .oidc]
        let claimsToo = Self.identity("dual@example.com", groups: [dual])
        #expect(claimsToo.effectiveRole.primary == .superAdmin)
        #expect(RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: Self.owners, losing: [claimsToo])?.code
                == .superAdminProtected)
    }

    /// Membership is the provider's word: SCIM taking the last person holding a role through a
    /// group out of it is not refused (deprovisioning must not wait), as for a sign-in.
    @Test("memberships: SCIM may take the last person holding a role through the group out of it")
    func membershipLastPerson() {
        let member = Self.identity("m@example.com", groups: [Self.mods])
        #expect(Self.holders.people(holding: .secondary(.pinsModerator)) == ["m@example.com"])
        #expect(RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: Self.mods, losing: [member]) == nil)
    }

    @Test("SCIM changing a user: never a super admin's deactivation, deletion or rename; never a last holder's deactivation")
    func provisionedUser() {
        let root = Self.identity("root@example.com", direct: RoleAssignment(primary: .superAdmin))
        let ada = Self.identity("ada@example.com", groups: [Self.owners])
        let pins = Self.identity("pins@example.com", direct: RoleAssignment(secondary: [.answersModerator]))
        var holders = Self.holders
        holders.add(user: "pins@example.com", holding: RoleAssignment(secondary: [.answersModerator]))
        for user in [root, ada] {
            #expect(RoleChangeSafety.changeProvisionedUser(user, deactivates: true, renames: false, holders: holders)?.code == .superAdminProtected)
            #expect(RoleChangeSafety.changeProvisionedUser(user, deactivates: false, renames: true, holders: holders)?.code == .superAdminProtected)
            #expect(RoleChangeSafety.changeProvisionedUser(user, deactivates: false, renames: false, holders: holders) == nil)
        }
        let last = RoleChangeSafety.changeProvisionedUser(pins, deactivates: true, renames: false, holders: holders)
        #expect(last?.code == .lastRoleHolder && last?.role == .secondary(.answersModerator) && last?.status == 409)
        #expect(RoleChangeSafety.changeProvisionedUser(pins, deactivates: false, renames: true, holders: holders) == nil,
                "renaming a holder takes no role away")
        holders.add(user: "other@example.com", holding: RoleAssignment(secondary: [.answersModerator]))
        #expect(RoleChangeSafety.changeProvisionedUser(pins, deactivates: true, renames: false, holders: holders) == nil)
        // An inactive user holds nothing: SCIM may delete it.
        let gone = Self.identity("gone@example.com", direct: RoleAssignment(primary: .superAdmin), active: false)
        #expect(RoleChangeSafety.changeProvisionedUser(gone, deactivates: true, renames: true, holders: holders) == nil)
        #expect(RoleChangeSafety.changeProvisionedUser(Self.identity("nobody@example.com"), deactivates: true, renames: true, holders: holders) == nil)
        // Roles through groups never keep a leaver active: m@ is the last person holding
        // pins_moderator, through Mods.
        let member = Self.identity("m@example.com", groups: [Self.mods])
        #expect(RoleChangeSafety.changeProvisionedUser(member, deactivates: true, renames: false, holders: holders) == nil)
        // Holders are people (issue 21, item 10): the last person holding a role directly is its
        // last holder though an empty group is mapped to it.
        var empty = holders
        empty.add(.group("Empty", .scim), holding: RoleAssignment(secondary: [.teamsModerator]), people: [])
        empty.add(user: "teams@example.com", holding: RoleAssignment(secondary: [.teamsModerator]))
        let teams = Self.identity("teams@example.com", direct: RoleAssignment(secondary: [.teamsModerator]))
        let refused = RoleChangeSafety.changeProvisionedUser(teams, deactivates: true, renames: false, holders: empty)
        #expect(refused?.code == .lastRoleHolder && refused?.role == .secondary(.teamsModerator))
    }
}
