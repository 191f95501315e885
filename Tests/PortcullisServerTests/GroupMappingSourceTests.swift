import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// Issue 21, item 9: a group mapping names the source of membership it is for, over the real
/// OIDC sign-in (the development IdP states the groups claim) and real SCIM. A user whose IdP
/// `groups` claim names a group mapped for SCIM gets nothing from it, and the other way round.
@Suite("Identity: group mappings are for one source")
struct GroupMappingSourceTests {
    /// Mallory's provider lets her put any group name in her own `groups` claim (self-service
    /// groups, a second IdP tenant): she names the group SCIM provisions for admins.
    static let mallory = DevIdentityDirectory.User(
        email: "mallory@example.com", name: "Mallory", department: "Sales", groups: ["Admins", "Claims-Mods"],
        password: "portcullis", mfa: false, subject: "sub-mallory"
    )

    @Test("an IdP groups claim equal to a SCIM-mapped group's name does not grant its role, nor a claim mapping SCIM's members")
    func claimCannotBorrowSCIMMapping() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token, extraUsers: [Self.mallory])
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        defer { Task { await root.shutdown(); await grace.shutdown() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let scim = SCIMTests.Client(harness: harness, browser: browser)
        // SCIM provisions Admins with Grace; a super admin maps it to admin for SCIM's members.
        let graceID = try await scim.id(ofUser: "grace@example.com")
        #expect(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Admins","members":[{"value":"\#(graceID)"}]}"#).status == .created)
        let mapped = try await root.call(.PUT, "/groups/Admins/roles", json: #"{"source":"scim","primary":"admin"}"#)
        #expect(mapped.status == .ok, "\(mapped.body)")
        #expect((mapped["mappings"] as? [[String: Any]])?.map { $0["source"] as? String } == ["scim"])
        #expect(try await grace.call(.GET, "/me")["primary_role"] as? String == "admin", "SCIM's member gets the role")

        // Mallory signs in through the provider with "Admins" in her groups claim.
        let mallory = try await AdminClient.signIn(harness, as: "mallory@example.com")
        defer { Task { await mallory.shutdown() } }
        let malloryID = try #require(try await harness.store.user(email: "mallory@example.com")?.id)
        let groups = try await harness.store.groups(ofUser: malloryID)
        #expect(groups.first { $0.name == "Admins" }?.sources == [.oidc], "the claim made her a member, through sign-in claims")
        let me = try await mallory.call(.GET, "/me")
        #expect(me["primary_role"] as? String == "member", "\(me.body)")
        #expect(try await mallory.call(.GET, "/teammates").status == .forbidden)
        #expect(try await mallory.browser.request(harness.url("/admin/teammates")).status == .forbidden)
        #expect(try await grace.browser.request(harness.url("/admin/teammates")).status == .ok)
        let explained = try await root.call(.GET, "/teammates/mallory@example.com")
        let none = ((explained["effective_role"] as? [String: Any])?["sources"] as? [Any]) ?? []
        #expect(none.isEmpty, "nothing gives Mallory a role: \(explained.body)")

        // The other way round: Claims-Mods is mapped for the claim; SCIM's Claims-Mods gives
        // Sam nothing, Mallory's claim gives her the role.
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let samID = try await scim.id(ofUser: "sam@example.com")
        #expect(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Claims-Mods","members":[{"value":"\#(samID)"}]}"#).status == .created)
        #expect(try await root.call(.PUT, "/groups/Claims-Mods/roles", json: #"{"source":"oidc","secondary":["answers_moderator"]}"#).status == .ok)
        #expect(try await sam.request(harness.url("/answers/moderate")).status == .forbidden)
        #expect(try await mallory.browser.request(harness.url("/answers/moderate")).status == .ok)
        let detail = try await root.call(.GET, "/teammates/mallory@example.com")
        let sources = ((detail["effective_role"] as? [String: Any])?["sources"] as? [[String: Any]]) ?? []
        #expect(sources.first { $0["name"] as? String == "Claims-Mods" }?["membership"] as? [String] == ["oidc"], "\(detail.body)")
    }

    @Test("the admin API takes and shows a mapping's source; without one it refuses 400 source_required")
    func apiTakesTheSource() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        // Grace is in Research through her groups claim.
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        defer { Task { await root.shutdown(); await grace.shutdown() } }
        for body in [nil, "{}", #"{"primary":"admin"}"#] {
            let missing = try await root.call(.PUT, "/groups/Research/roles", json: body)
            #expect(missing.status == .badRequest && missing.reason == "source_required", "\(body ?? "no body"): \(missing.body)")
        }
        let unknown = try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"any","primary":"admin"}"#)
        #expect(unknown.status == .badRequest && unknown.reason == "unknown_source", "\(unknown.body)")
        #expect(try await root.call(.GET, "/groups/Research/roles")["mappings"] as? [Any] != nil)
        #expect((try await root.call(.GET, "/groups/Research/roles")["mappings"] as? [Any])?.isEmpty == true, "nothing was mapped")
        let both = try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc","secondary":["pins_moderator"]}"#)
        #expect(both.status == .ok, "\(both.body)")
        _ = try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"scim","primary":"setup_admin"}"#)
        let shown = try await root.call(.GET, "/groups/Research/roles")
        let mappings = try #require(shown["mappings"] as? [[String: Any]])
        #expect(mappings.map { $0["source"] as? String } == ["scim", "oidc"])
        #expect(mappings.first?["primary"] as? String == "setup_admin")
        #expect(mappings.last?["secondary"] as? [String] == ["pins_moderator"])
        #expect(mappings.allSatisfy { $0["review"] as? Bool == false })
        #expect((shown["members_by_source"] as? [String: Int]) == ["oidc": 1, "scim": 0], "\(shown.body)")
        let entry = try #require(try await harness.store.auditEntries(AuditQuery(action: .groupRolesChanged)).first)
        #expect(entry.after?.objectValue?["source"] == .string("scim"))
        // Grace, in Research through her claim, gets the oidc mapping only.
        let me = try await grace.call(.GET, "/me")
        #expect(me["primary_role"] as? String == "member" && me["secondary_roles"] as? [String] == ["pins_moderator"], "\(me.body)")
    }
}
}
