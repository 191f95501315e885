import Foundation
import PortcullisCore
import Testing

/// The matrix of SPEC §1.3, copied here by hand as the independent statement of what must hold.
/// `D` = a default member permission (held by member and setup_admin while its switch is on).
private let specMatrix: [(permission: String, member: String, setupAdmin: String, admin: Bool, superAdmin: Bool, alsoBy: [String])] = [
    ("content.view", "Y", "Y", true, true, []),
    ("answers.create", "D", "D", true, true, []),
    ("answers.manage_any", "", "", true, true, ["answers_moderator"]),
    ("announcements.create", "", "", true, true, []),
    ("announcements.manage_any", "", "", true, true, ["announcements_moderator"]),
    ("collections.create", "D", "D", true, true, []),
    ("collections.manage_any", "", "", true, true, ["collections_moderator"]),
    ("go_links.create", "D", "D", true, true, []),
    ("go_links.manage_any", "", "", true, true, ["go_links_moderator"]),
    ("pins.create_public", "D", "D", true, true, []),
    ("pins.create_private", "Y", "Y", true, true, []),
    ("pins.manage_any", "", "", true, true, ["pins_moderator"]),
    ("apps_actions.create", "D", "D", true, true, []),
    ("documents.verify_own", "Y", "Y", true, true, []),
    ("documents.verify_any", "", "", true, true, ["verification_moderator"]),
    ("teams.edit_own_page", "Y", "Y", true, true, []),
    ("teams.manage", "", "", true, true, ["teams_moderator"]),
    ("insights.view", "", "", true, true, ["insights_moderator"]),
    ("insights.download_csv", "", "", true, true, ["insights_moderator"]),
    ("ai_apps.create", "", "", true, true, ["ai_app_creator"]),
    ("ai_apps.manage_any", "", "", true, true, []),
    ("agents.create", "", "", true, true, ["agent_creator"]),
    ("assistant.manage", "", "", true, true, []),
    ("datasources.manage", "", "Y", true, true, []),
    ("teammates.view", "", "", true, true, []),
    ("teammates.edit_roles", "", "", true, true, []),
    ("teammates.view_activity", "", "", true, true, []),
    ("teammates.sign_out_sessions", "", "", true, true, []),
    ("settings.manage", "", "", true, true, []),
    ("groups.view", "", "", true, true, []),
    ("groups.map_roles", "", "", true, true, []),
    ("api_tokens.create", "", "", true, true, ["api_token_creator"]),
    ("api_tokens.create_global", "", "", false, true, []),
    ("admin_search.use", "", "", false, false, ["admin_search"]),
    ("dlp.reports", "", "", false, true, ["sensitive_content_moderator"]),
    ("audit.view", "", "", true, true, []),
]

private let adminOnly: Set<String> = ["teammates.edit_roles", "teammates.view_activity", "settings.manage"]

@Suite("Permission matrix (SPEC §1.3)")
struct PermissionMatrixTests {
    @Test("the matrix names every permission exactly once")
    func everyPermissionHasARow() {
        let names = specMatrix.map(\.permission)
        #expect(Set(names).count == names.count)
        #expect(Set(names) == Set(Permission.allCases.map(\.rawValue)))
    }

    @Test("each row holds for each primary role, switches on and off", arguments: specMatrix.map(\.permission))
    func row(_ name: String) throws {
        let permission = try #require(Permission(rawValue: name))
        let row = try #require(specMatrix.first { $0.permission == name })
        for switchesOn in [true, false] {
            var defaults = DefaultMemberPermissions.allOn
            if !switchesOn {
                for item in DefaultMemberPermissions.switchable { defaults.set(item, to: false) }
            }
            func expected(_ cell: String) -> Bool { cell == "Y" || (cell == "D" && switchesOn) }
            #expect(PermissionMatrix.permissions(of: .member, defaults: defaults).contains(permission) == expected(row.member))
            #expect(PermissionMatrix.permissions(of: .setupAdmin, defaults: defaults).contains(permission) == expected(row.setupAdmin))
            #expect(PermissionMatrix.permissions(of: .admin, defaults: defaults).contains(permission) == row.admin)
            #expect(PermissionMatrix.permissions(of: .superAdmin, defaults: defaults).contains(permission) == row.superAdmin)
        }
        for role in SecondaryRole.allCases {
            let grants = PermissionMatrix.permissions(granting: role).contains(permission)
            #expect(grants == row.alsoBy.contains(role.rawValue), "\(role.rawValue) and \(name)")
        }
    }

    @Test("admin-only permissions are never granted to a member or setup admin by any secondary role")
    func adminOnlyIsNeverGrantedBySecondaryRoles() throws {
        for name in adminOnly {
            let permission = try #require(Permission(rawValue: name))
            #expect(PermissionMatrix.grant(for: permission).isAdminOnly)
            for primary in [PrimaryRole.member, .setupAdmin] {
                let everything = PermissionMatrix.permissions(
                    primary: primary, secondary: Set(SecondaryRole.allCases), defaults: .allOn
                )
                #expect(!everything.contains(permission))
            }
        }
        #expect(Permission.allCases.filter { PermissionMatrix.grant(for: $0).isAdminOnly }.map(\.rawValue).sorted() == adminOnly.sorted())
    }

    @Test("the five default member switches are exactly the footnote's five")
    func defaultSwitches() {
        #expect(Set(DefaultMemberPermissions.switchable.map(\.rawValue)) == [
            "answers.create", "collections.create", "pins.create_public", "go_links.create", "apps_actions.create",
        ])
        var defaults = DefaultMemberPermissions.allOn
        #expect(defaults.set(.teammatesView, to: true) == false)
        defaults.set(.answersCreate, to: false)
        #expect(!PermissionMatrix.permissions(of: .member, defaults: defaults).contains(.answersCreate))
        #expect(PermissionMatrix.permissions(of: .member, defaults: defaults).contains(.collectionsCreate))
        // Admins keep them whatever the switches say.
        #expect(PermissionMatrix.permissions(of: .admin, defaults: defaults).contains(.answersCreate))
    }

    @Test("explanations name the primary role, the switch or the secondary role")
    func reasons() {
        #expect(PermissionMatrix.reasons(for: .answersManageAny, primary: .member, secondary: [.answersModerator], defaults: .allOn)
            == [.secondaryRole(.answersModerator)])
        #expect(PermissionMatrix.reasons(for: .answersCreate, primary: .member, secondary: [], defaults: .allOn)
            == [.defaultMemberPermission])
        #expect(PermissionMatrix.reasons(for: .answersCreate, primary: .admin, secondary: [], defaults: .allOn)
            == [.primaryRole(.admin)])
        #expect(PermissionMatrix.reasons(for: .teammatesView, primary: .member, secondary: Set(SecondaryRole.allCases), defaults: .allOn)
            .isEmpty)
    }

    @Test("PermissionSet holds exactly what was inserted")
    func permissionSet() {
        var set = PermissionSet()
        #expect(set.isEmpty)
        for permission in Permission.allCases { set.insert(permission) }
        #expect(set == PermissionSet.all)
        set.remove(.auditView)
        #expect(!set.contains(.auditView))
        #expect(set.sorted.count == Permission.allCases.count - 1)
    }

    @Test("role names parse, including the DLP moderator alias")
    func roleNames() {
        #expect(RoleName("super_admin") == .primary(.superAdmin))
        #expect(RoleName("dlp_moderator") == .secondary(.sensitiveContentModerator))
        #expect(RoleName("sensitive_content_moderator") == .secondary(.sensitiveContentModerator))
        #expect(RoleName("Admin") == nil)
        #expect(RoleName("") == nil)
        #expect(PrimaryRole.superAdmin > .admin && PrimaryRole.admin > .setupAdmin && PrimaryRole.setupAdmin > .member)
    }

    @Test("the request path's tables answer what the matrix does, for every role, switch setting and secondary role")
    func tablesAgreeWithTheMatrix() {
        let switches = DefaultMemberPermissions.switchable
        for primary in PrimaryRole.allCases {
            for bits in 0..<(1 << switches.count) {
                var defaults = DefaultMemberPermissions.allOn
                for (offset, permission) in switches.enumerated() where bits & (1 << offset) == 0 { defaults.set(permission, to: false) }
                var expected = PermissionMatrix.permissions(of: primary, defaults: defaults)
                #expect(PermissionMatrix.permissions(primary: primary, secondary: [], defaults: defaults) == expected)
                let secondaries: Set<SecondaryRole> = [.answersModerator, .adminSearch, .sensitiveContentModerator]
                for role in secondaries { expected.formUnion(PermissionMatrix.permissions(granting: role)) }
                #expect(PermissionMatrix.permissions(primary: primary, secondary: secondaries, defaults: defaults) == expected)
            }
        }
        for role in SecondaryRole.allCases {
            var expected = PermissionMatrix.permissions(of: .member, defaults: .allOn)
            expected.formUnion(PermissionMatrix.permissions(granting: role))
            #expect(PermissionMatrix.permissions(primary: .member, secondary: [role], defaults: .allOn) == expected)
        }
    }

    @Test("a session ID hash prints as 64 lower-case hex digits and parses back")
    func sessionHashHex() throws {
        let bytes = (0..<32).map { UInt8($0 * 8 + 1) }
        let hash = try #require(SessionIDHash(bytes: bytes))
        #expect(hash.hex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(SessionIDHash(hex: hash.hex) == hash)
    }
}
