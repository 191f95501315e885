import Foundation
import GRDB
import NIOHTTP1
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
@Suite("Admin API, end to end over HTTPS")
struct AdminAPITests {
    static let routes = """
          - { name: teammates-page, path: /admin/teammates, upstream: "{UPSTREAM}", require: { permission: teammates.view }, allow_bearer: true }
          - { name: answers-new, path: /answers/new, upstream: "{UPSTREAM}", require: { permission: answers.create }, allow_bearer: true }
          - { name: moderation, path: /answers/moderate, upstream: "{UPSTREAM}", require: { permission: answers.manage_any } }
          - { name: api, path: /api, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    /// A super admin made the way `portcullis admin bootstrap` makes one.
    static func bootstrap(_ harness: SSOHarness, _ email: String = "root@example.com") async throws {
        let user = try await harness.store.ensureUser(email: email, at: Date())
        let made = try await harness.store.bootstrapSuperAdmin(
            userID: user.id, force: false, audit: AuditContext(actor: "cli", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        )
        #expect(made)
    }

    static func sources(_ answer: AdminClient.Answer) -> [[String: String]] {
        let effective = answer["effective_role"] as? [String: Any] ?? [:]
        return (effective["sources"] as? [[String: Any]] ?? []).map { source in
            [
                "kind": source["kind"] as? String ?? "",
                "name": source["name"] as? String ?? "",
                "primary": source["primary"] as? String ?? "",
                "secondary": (source["secondary"] as? [String] ?? []).joined(separator: ","),
            ]
        }
    }

    @Test("the issue's scenario: bootstrap, mappings, the seed example, every refusal, sign-out-all, audit")
    func scenario() async throws {
        let harness = try await SSOHarness.start(routes: Self.routes)
        defer { Task { await harness.stop() } }
        try await Self.bootstrap(harness)

        // Ada and Sam sign in once, so that the gateway knows them and their IdP groups.
        let ada = try await AdminClient.signIn(harness, as: "ada@example.com")
        let sam = try await AdminClient.signIn(harness, as: "sam@example.com")
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { for client in [ada, sam, grace, root] { await client.shutdown() } } }
        let me = try await root.call(.GET, "/me")
        #expect(me["primary_role"] as? String == "super_admin")

        // Map the IdP groups of the seed example, and make Ada a direct admin.
        let itAdmins = try await root.call(.PUT, "/groups/IT-Admins/roles", json: #"{"source":"oidc","primary":"setup_admin","secondary":["api_token_creator"]}"#)
        #expect(itAdmins.status == .ok, "\(itAdmins.body)")
        let content = try await root.call(.PUT, "/groups/Content-Team/roles", json: #"{"source":"oidc","primary":"member","secondary":["answers_moderator"]}"#)
        #expect(content.status == .ok, "\(content.body)")
        let adaAdmin = try await root.call(.PUT, "/teammates/ada@example.com/roles",
                                           json: #"{"primary":"admin","secondary":["api_token_creator","answers_moderator"]}"#)
        #expect(adaAdmin.status == .ok, "\(adaAdmin.body)")

        // The seed example, verbatim: admin + {api_token_creator, answers_moderator}, with sources.
        let detail = try await root.call(.GET, "/teammates/ada@example.com")
        let effective = try #require(detail["effective_role"] as? [String: Any])
        #expect(effective["primary"] as? String == "admin")
        #expect(effective["secondary"] as? [String] == ["answers_moderator", "api_token_creator"])
        #expect(Set(Self.sources(detail)) == [
            ["kind": "direct", "name": "direct", "primary": "admin", "secondary": ""],
            ["kind": "group", "name": "IT-Admins", "primary": "setup_admin", "secondary": "api_token_creator"],
            ["kind": "group", "name": "Content-Team", "primary": "member", "secondary": "answers_moderator"],
        ])
        #expect((effective["permissions"] as? [String])?.contains("answers.manage_any") == true)
        // Ada's next request already carries the new role (no waiting for a cache).
        let moderation = try await ada.browser.request(harness.url("/answers/moderate"))
        #expect(moderation.status == .ok)

        // An admin trying to make someone super admin: 403.
        let escalate = try await ada.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"super_admin"}"#)
        #expect(escalate.status == .forbidden)
        #expect(escalate.reason == "super_admin_only")
        // Removing the last super admin: 409, naming the role.
        let lastHolder = try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"member"}"#)
        #expect(lastHolder.status == .conflict)
        #expect(lastHolder.reason == "last_role_holder")
        #expect(lastHolder["role"] as? String == "super_admin")
        // Removing a group-derived role from the user: 409 saying where it comes from.
        let inherited = try await root.call(.PUT, "/teammates/ada@example.com/roles", json: #"{"primary":"admin","secondary":["api_token_creator"]}"#)
        #expect(inherited.status == .conflict)
        #expect(inherited.reason == "role_inherited_from_group")
        #expect((inherited["message"] as? String)?.contains("Content-Team") == true)
        // A member calling an admin route: 403 permission_required.
        let memberCall = try await sam.call(.GET, "/teammates")
        #expect(memberCall.status == .forbidden)
        #expect(memberCall.reason == "permission_required")
        let memberPage = try await sam.browser.request(harness.url("/admin/teammates"), accept: "application/json")
        #expect(memberPage.status == .forbidden)
        #expect(memberPage.headers.first(name: "x-portcullis-reason") == "permission_required")

        // Turning a default member permission off changes the next request's answer.
        #expect(try await sam.browser.request(harness.url("/answers/new")).status == .ok)
        let version = try #require(try await root.call(.GET, "/settings/default-member-permissions")["version"] as? Int)
        let off = try await root.call(.PUT, "/settings/default-member-permissions", json: #"{"answers.create": false, "version": \#(version)}"#)
        #expect(off.status == .ok, "\(off.body)")
        #expect(off["answers.create"] as? Bool == false)
        let refused = try await sam.browser.request(harness.url("/answers/new"), accept: "application/json")
        #expect(refused.status == .forbidden)
        #expect(refused.body.contains("permission_required"))
        // Admins keep it: the switch is for members and setup admins.
        #expect(try await ada.browser.request(harness.url("/answers/new")).status == .ok)

        // Sessions: Grace's is listed with where and what it is; sign-out-all sends her to login.
        let sessions = try await root.call(.GET, "/teammates/grace@example.com/sessions")
        let listed = try #require(sessions["sessions"] as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["ip"] as? String == "127.0.0.1")
        #expect(listed.first?["auth_method"] as? String == "oidc")
        #expect((listed.first?["device"] as? [String: Any])?["type"] as? String != nil)
        #expect(listed.first?["location"] is [String: Any])
        #expect(listed.first?["created_at"] is String)
        #expect(try await grace.browser.request(harness.url("/echo")).status == .ok)
        let signOut = try await root.call(.POST, "/teammates/grace@example.com/sessions/sign-out-all", json: #"{"include_api_tokens": true}"#)
        #expect(signOut.status == .ok, "\(signOut.body)")
        #expect(signOut["revoked_sessions"] as? Int == 1)
        let after = try await grace.browser.request(harness.url("/echo"))
        #expect(after.status == .found)
        #expect(after.location?.contains("/_portcullis/login") == true)
        #expect((try await root.call(.GET, "/teammates/grace@example.com/sessions")["sessions"] as? [Any])?.isEmpty == true)

        // The audit log holds every change, verifies, and stops verifying once a row is edited.
        let audit = try await root.call(.GET, "/audit?actor=root@example.com")
        let actions = (audit["entries"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(actions.contains("group.roles.changed"))
        #expect(actions.contains("user.roles.changed"))
        #expect(actions.contains("settings.default_member_permissions.changed"))
        #expect(actions.contains("sessions.signed_out"))
        let bootstrapEntries = try await root.call(.GET, "/audit?action=admin.bootstrap")
        #expect((bootstrapEntries["entries"] as? [Any])?.count == 1)
        let intact = try await root.call(.GET, "/audit/verify")
        #expect(intact["broken_at"] == nil && intact["problem"] == nil, "\(intact.body)")
        let queue = try DatabaseQueue(path: harness.sqlite.path)
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET body = replace(body, 'answers_moderator', 'teams_moderator') WHERE action = 'group.roles.changed'")
        }
        try queue.close()
        let broken = try await root.call(.GET, "/audit/verify")
        #expect(broken["broken_at"] as? Int != nil, "\(broken.body)")
        #expect((broken["problem"] as? String)?.contains("altered") == true)
    }
}
}
