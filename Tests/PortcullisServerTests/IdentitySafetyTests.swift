import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing
import PortcullisDataPath

extension ServerTests {
/// Safety rails on every path that changes an effective role (issue 12): the
/// `group_based_permissions` flag, group mappings and SCIM run the checks of a direct role
/// change, and settings changes are compare-and-set.
@Suite("Identity: safety rails and compare-and-set settings")
struct IdentitySafetyTests {
    /// Root is the bootstrapped (direct) super admin; Ada is super admin only through the
    /// IT-Admins group; Grace is a direct admin.
    static func organisation(_ harness: SSOHarness) async throws -> (root: AdminClient, grace: AdminClient, ada: AdminClient) {
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let ada = try await AdminClient.signIn(harness, as: "ada@example.com")
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        #expect(try await root.call(.PUT, "/groups/IT-Admins/roles", json: #"{"source":"oidc","primary":"super_admin"}"#).status == .ok)
        return (root, grace, ada)
    }

    static func version(_ client: AdminClient, _ path: String) async throws -> Int {
        try #require(try await client.call(.GET, path)["version"] as? Int)
    }

    @Test("an admin's flag change that would demote a super admin is refused; a super admin's is allowed and audited")
    func flagDemotion() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        let (root, grace, ada) = try await Self.organisation(harness)
        defer { Task { for client in [root, grace, ada] { await client.shutdown() } } }
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "super_admin")

        let version = try await Self.version(grace, "/settings/feature-flags")
        let refused = try await grace.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions":false,"version":\#(version)}"#)
        #expect(refused.status == .forbidden, "\(refused.body)")
        #expect(refused.reason == "super_admin_protected")
        #expect((refused["message"] as? String)?.contains("ada@example.com") == true)
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "super_admin", "nothing changed")

        let allowed = try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions":false,"version":\#(version)}"#)
        #expect(allowed.status == .ok, "\(allowed.body)")
        #expect(allowed["group_based_permissions"] as? Bool == false && allowed["version"] as? Int == version + 1)
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "member")
        let entry = try #require(try await harness.store.auditEntries(AuditQuery(action: .featureFlagsChanged)).first)
        #expect(entry.actor == "root@example.com" && entry.actorIsSuperAdmin)
        #expect(entry.after?.objectValue?["super_admins_demoted"] == .array([.string("ada@example.com")]))
    }

    @Test("settings are compare-and-set: a stale version is 409 conflict, none at all is 428; If-Match works too")
    func compareAndSet() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let read = try await root.call(.GET, "/settings/default-member-permissions")
        let version = try #require(read["version"] as? Int)
        #expect(read.headers.first(name: "etag") == "\"\(version)\"")
        // Two admins read version N; the first change wins, the second is told.
        let first = try await root.call(.PUT, "/settings/default-member-permissions", json: #"{"answers.create":false,"version":\#(version)}"#)
        #expect(first.status == .ok && first["version"] as? Int == version + 1, "\(first.body)")
        let second = try await root.call(.PUT, "/settings/default-member-permissions", json: #"{"pins.create_public":false,"version":\#(version)}"#)
        #expect(second.status == .conflict && second.reason == "conflict", "\(second.body)")
        #expect(try await root.call(.GET, "/settings/default-member-permissions")["pins.create_public"] as? Bool == true, "the stale change lost nothing")
        let missing = try await root.call(.PUT, "/settings/default-member-permissions", json: #"{"pins.create_public":false}"#)
        #expect(missing.status.code == 428 && missing.reason == "version_required")
        let header = try await root.call(
            .PUT, "/settings/default-member-permissions", json: #"{"pins.create_public":false}"#, headers: [("If-Match", "\"\(version + 1)\"")]
        )
        #expect(header.status == .ok, "\(header.body)")
        let flags = try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions":false,"version":99}"#)
        #expect(flags.status == .conflict && flags.reason == "conflict")
        #expect(try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions":"no","version":0}"#).status == .badRequest)
    }

    @Test("the last holder of a role is protected through the flag, group mappings and SCIM")
    func lastHolder() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let (root, grace, ada) = try await Self.organisation(harness)
        defer { Task { for client in [root, grace, ada] { await client.shutdown() } } }
        // Only the Content-Team group holds answers_moderator.
        #expect(try await root.call(.PUT, "/groups/Content-Team/roles", json: #"{"source":"oidc","secondary":["answers_moderator"]}"#).status == .ok)
        // The flag: turning group roles off would leave answers_moderator (and the group-only
        // super_admin holder aside) without a holder.
        let version = try await Self.version(root, "/settings/feature-flags")
        let flag = try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions":false,"version":\#(version)}"#)
        #expect(flag.status == .conflict && flag.reason == "last_role_holder", "\(flag.body)")
        #expect(flag["role"] as? String == "answers_moderator")
        // A mapping: removing the only holder's mapping.
        let mapping = try await root.call(.PUT, "/groups/Content-Team/roles", json: #"{"source":"oidc"}"#)
        #expect(mapping.status == .conflict && mapping.reason == "last_role_holder", "\(mapping.body)")
        // SCIM: deleting the group that gives the last person a role is the provider's word on
        // membership, never refused: the group goes, keeps its mapping, and (empty) holds nothing.
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let scim = SCIMTests.Client(harness: harness, browser: browser)
        let adaID = try await scim.id(ofUser: "ada@example.com")
        let pilots = try #require(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Pilots","members":[{"value":"\#(adaID)"}]}"#)["id"] as? String)
        #expect(try await root.call(.PUT, "/groups/Pilots/roles", json: #"{"source":"scim","secondary":["pins_moderator"]}"#).status == .ok)
        #expect(try await harness.store.roleHolders().people(holding: .secondary(.pinsModerator)) == ["ada@example.com"])
        #expect(try await scim.call(.DELETE, "/Groups/\(pilots)").status == .noContent)
        #expect(try await harness.store.roleHolders().people(holding: .secondary(.pinsModerator)).isEmpty)
        #expect(try await harness.store.group(named: "Pilots")?.group.mappings[.scim] == RoleAssignment(secondary: [.pinsModerator]))
        // An admin cannot make a mapping take super_admin away either.
        let demote = try await grace.call(.PUT, "/groups/IT-Admins/roles", json: #"{"source":"oidc","primary":"admin"}"#)
        #expect(demote.status == .forbidden && demote.reason == "super_admin_protected")
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "super_admin")
    }

    /// Issue 21, item 10: a mapped group with no members is not a role holder. Before, the
    /// empty group counted as a principal holding the role, so the last person could lose it.
    @Test("the last person holding a role cannot lose it, directly or through a group, though an empty group is mapped to it")
    func emptyGroupIsNoHolder() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let (root, grace, ada) = try await Self.organisation(harness)
        defer { Task { for client in [root, grace, ada] { await client.shutdown() } } }
        // Empty-Pilots is mapped for SCIM and nobody is in it; Grace alone holds pins_moderator.
        let empty = try await root.call(.PUT, "/groups/Empty-Pilots/roles", json: #"{"source":"scim","secondary":["pins_moderator"]}"#)
        #expect(empty.status == .ok, "\(empty.body)")
        #expect(empty["members"] as? Int == 0)
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin","secondary":["pins_moderator"]}"#).status == .ok)
        let direct = try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#)
        #expect(direct.status == .conflict && direct.reason == "last_role_holder", "\(direct.body)")
        #expect(direct["role"] as? String == "pins_moderator")
        #expect(try await grace.call(.GET, "/me")["secondary_roles"] as? [String] == ["pins_moderator"], "nothing changed")
        // Through a group: Ada alone holds answers_moderator, by Content-Team's mapping; an empty
        // group mapped to answers_moderator does not let that mapping go.
        #expect(try await root.call(.PUT, "/groups/Content-Team/roles", json: #"{"source":"oidc","secondary":["answers_moderator"]}"#).status == .ok)
        #expect(try await root.call(.PUT, "/groups/Empty-Mods/roles", json: #"{"source":"scim","secondary":["answers_moderator"]}"#).status == .ok)
        let mapping = try await root.call(.PUT, "/groups/Content-Team/roles", json: #"{"source":"oidc"}"#)
        #expect(mapping.status == .conflict && mapping.reason == "last_role_holder", "\(mapping.body)")
        #expect((mapping["message"] as? String)?.contains("ada@example.com") == true)
        #expect(try await ada.call(.GET, "/me")["secondary_roles"] as? [String] == ["answers_moderator"])
        // The empty group's own mapping takes the role from nobody: it may go.
        #expect(try await root.call(.PUT, "/groups/Empty-Mods/roles", json: #"{"source":"scim"}"#).status == .ok)
        // Once someone else holds it, the last-but-one may lose it.
        #expect(try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"super_admin","secondary":["pins_moderator"]}"#).status == .ok)
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
    }

    @Test("SCIM may not deactivate, delete or rename a super admin, nor deactivate a role's last holder")
    func scimUserChanges() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let (root, grace, ada) = try await Self.organisation(harness)
        defer { Task { for client in [root, grace, ada] { await client.shutdown() } } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let scim = SCIMTests.Client(harness: harness, browser: browser)
        let rootID = try await scim.id(ofUser: "root@example.com")
        // Root is the only direct super admin: no way through SCIM takes that away.
        let deactivate = try await scim.patch("/Users/\(rootID)", #"[{"op":"replace","path":"active","value":false}]"#)
        #expect(deactivate.status == .forbidden && deactivate.body.contains("super admin"), "\(deactivate.body)")
        let replaced = try await scim.call(.PUT, "/Users/\(rootID)", json: #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"root@example.com","active":false}"#)
        #expect(replaced.status == .forbidden, "\(replaced.body)")
        let renamed = try await scim.patch("/Users/\(rootID)", #"[{"op":"replace","path":"userName","value":"mallory@example.com"}]"#)
        #expect(renamed.status == .forbidden, "\(renamed.body)")
        #expect(try await scim.call(.DELETE, "/Users/\(rootID)").status == .forbidden)
        // Ada is a super admin through a group: SCIM cannot deactivate her either.
        let adaID = try await scim.id(ofUser: "ada@example.com")
        #expect(try await scim.patch("/Users/\(adaID)", #"[{"op":"replace","path":"active","value":false}]"#).status == .forbidden)
        // Grace is the only admin: deactivating her would leave admin without a holder.
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let last = try await scim.patch("/Users/\(graceID)", #"[{"op":"replace","path":"active","value":false}]"#)
        #expect(last.status == .conflict && last.body.contains("last person holding Admin"), "\(last.body)")
        #expect(try await scim.call(.DELETE, "/Users/\(graceID)").status == .conflict)
        // Nothing changed: all three still act with their roles.
        #expect(try await root.call(.GET, "/me")["primary_role"] as? String == "super_admin")
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "super_admin")
        #expect(try await grace.call(.GET, "/me")["primary_role"] as? String == "admin")
        #expect(try await harness.store.user(email: "root@example.com")?.active == true)
        // Once a super admin gives Grace's role to someone else too, SCIM may deactivate her.
        let sam = try await AdminClient.signIn(harness, as: "sam@example.com")
        defer { Task { await sam.shutdown() } }
        #expect(try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        #expect(try await scim.patch("/Users/\(graceID)", #"[{"op":"replace","path":"active","value":false}]"#).status == .ok)
    }
}
}
