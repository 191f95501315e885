import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing
import PortcullisDataPath
import PortcullisDevelopment

extension ServerTests {
/// Identity with providers that behave like real ones (issue 12): claims only in UserInfo, no
/// `email_verified`, SCIM beside sign-in claims. Every "must never" has a test that tries it.
@Suite("Identity: UserInfo, account linking, group sources")
struct IdentityLinkingTests {
    static let userInfoOnly = DevIdentityProvider.Behaviour(claimsOnlyInUserInfo: true, sendsEmailVerified: true)
    static let neverVerified = DevIdentityProvider.Behaviour(claimsOnlyInUserInfo: true, sendsEmailVerified: false)

    static func echo(_ page: TestBrowser.Page) throws -> TestUpstream.Echo {
        try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
    }

    @Test("claims only from UserInfo: the bootstrapped super admin is matched, groups and department recorded")
    func userInfoClaims() async throws {
        let harness = try await SSOHarness.start(behaviour: Self.userInfoOnly)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let (root, page) = try await harness.signedIn("root@example.com")
        defer { Task { await root.shutdown() } }
        #expect(page.status == .ok, "\(page.body.prefix(300))")
        let echo = try Self.echo(page)
        #expect(echo.values("x-portcullis-email") == ["root@example.com"])
        #expect(echo.values("x-portcullis-role") == ["super_admin"], "the bootstrapped account was linked, not a new member")
        let (ada, adaPage) = try await harness.signedIn("ada@example.com")
        defer { Task { await ada.shutdown() } }
        #expect(adaPage.status == .ok)
        let user = try #require(try await harness.store.user(email: "ada@example.com"))
        #expect(user.name == "Ada Lovelace" && user.department == "Engineering")
        #expect(try await harness.store.groups(ofUser: user.id).map(\.name) == ["Content-Team", "IT-Admins"])
    }

    @Test("userinfo: never with a provider that keeps claims in UserInfo: refused with email_missing, never a fallback to sub")
    func userInfoNever() async throws {
        let harness = try await SSOHarness.start(oidc: "    userinfo: never", behaviour: Self.userInfoOnly)
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let page = try await browser.signIn(at: harness.url("/echo"), email: "sam@example.com")
        #expect(page.status == .forbidden)
        #expect(page.body.contains("email_missing"), "\(page.body.prefix(400))")
        #expect(try await harness.store.user(subject: "sub-sam") == nil, "no account named after sub or preferred_username")
    }

    @Test("an unverified email does not link to the bootstrapped super admin; trust_email covers providers that never send it")
    func unverifiedEmail() async throws {
        let harness = try await SSOHarness.start(behaviour: Self.neverVerified)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let page = try await browser.signIn(at: harness.url("/echo"), email: "root@example.com")
        #expect(page.status == .forbidden)
        #expect(page.body.contains("email_unverified"), "\(page.body.prefix(400))")
        #expect(try await harness.store.user(email: "root@example.com")?.subject == nil, "the super admin account stays unlinked")
        #expect(browser.cookie(SessionCookie.name, for: harness.url("/")) == nil)

        let trusted = try await SSOHarness.start(oidc: "    trust_email: true", behaviour: Self.neverVerified)
        defer { Task { await trusted.stop() } }
        try await AdminAPITests.bootstrap(trusted)
        let (root, linked) = try await trusted.signedIn("root@example.com")
        defer { Task { await root.shutdown() } }
        #expect(try Self.echo(linked).values("x-portcullis-role") == ["super_admin"])
    }

    @Test("a look-alike email (U+212A KELVIN SIGN) is refused, never linked or created beside the real account")
    func lookAlike() async throws {
        let impostor = DevIdentityDirectory.User(
            email: "\u{212A}ate@example.com", name: "Not Kate", department: nil, groups: [], password: "portcullis", mfa: false, subject: "sub-impostor"
        )
        let kate = DevIdentityDirectory.User(
            email: "kate@example.com", name: "Kate", department: nil, groups: [], password: "portcullis", mfa: false, subject: "sub-kate"
        )
        let harness = try await SSOHarness.start(extraUsers: [kate, impostor])
        defer { Task { await harness.stop() } }
        let kateAccount = try await harness.store.ensureUser(email: "kate@example.com", at: Date())
        _ = try await harness.store.bootstrapSuperAdmin(
            userID: kateAccount.id, force: false, audit: AuditContext(actor: "cli", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        )
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let page = try await browser.signIn(at: harness.url("/echo"), email: "\u{212A}ate@example.com")
        #expect(page.status == .forbidden)
        #expect(page.body.contains("email_lookalike"), "\(page.body.prefix(400))")
        #expect(try await harness.store.user(id: kateAccount.id)?.subject == nil)
        #expect(try await harness.store.user(subject: "sub-impostor") == nil)
        let (real, linked) = try await harness.signedIn("kate@example.com")
        defer { Task { await real.shutdown() } }
        #expect(try Self.echo(linked).values("x-portcullis-role") == ["super_admin"])
    }

    @Test("bearer JWTs never create or link users")
    func bearerNeverCreates() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let token = try await harness.accessToken(for: "root@example.com")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let refused = try await client.request(harness.url("/api/things"), headers: [("Authorization", "Bearer \(token)")], accept: "application/json")
        #expect(refused.status == .unauthorized)
        #expect(refused.body.contains("user_unknown"), "\(refused.body)")
        #expect(try await harness.store.user(email: "root@example.com")?.subject == nil, "the bootstrapped account was not linked")
        #expect(try await harness.store.user(subject: "sub-root") == nil)
        let stranger = try await harness.accessToken(for: "grace@example.com")
        #expect(try await client.request(harness.url("/api/x"), headers: [("Authorization", "Bearer \(stranger)")], accept: "application/json").status == .unauthorized)
        #expect(try await harness.store.user(email: "grace@example.com") == nil, "no user was created")
        // After a sign-in through SSO, the same kind of token works.
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await grace.shutdown() } }
        let again = try await harness.accessToken(for: "grace@example.com")
        #expect(try await client.request(harness.url("/api/x"), headers: [("Authorization", "Bearer \(again)")]).status == .ok)
    }

    @Test("a sign-in keeps SCIM's groups; each source replaces only its own; the explanation names the source")
    func loginKeepsSCIMGroups() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let scim = SCIMTests.Client(harness: harness, browser: browser)
        // Okta's case: the user and the group arrive by SCIM before any sign-in.
        let graceID = try #require(try await scim.call(.POST, "/Users", json: #"{"userName":"grace@example.com","active":true}"#)["id"] as? String)
        #expect(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Moderators","members":[{"value":"\#(graceID)"}]}"#).status == .created)
        #expect(try await root.call(.PUT, "/groups/Moderators/roles", json: #"{"source":"scim","secondary":["answers_moderator"]}"#).status == .ok)
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await grace.shutdown() } }
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .ok, "the sign-in kept the SCIM membership")
        let groups = try await harness.store.groups(ofUser: graceID)
        #expect(groups.map(\.name) == ["Moderators", "Research"])
        #expect(groups.first { $0.name == "Research" }?.sources == [.oidc])
        #expect(groups.first { $0.name == "Moderators" }?.sources == [.scim])
        let detail = try await root.call(.GET, "/teammates/grace@example.com")
        let sources = ((detail["effective_role"] as? [String: Any])?["sources"] as? [[String: Any]]) ?? []
        #expect(sources.first { $0["name"] as? String == "Moderators" }?["membership"] as? [String] == ["scim"], "\(detail.body)")
        // A second sign-in again leaves SCIM's membership alone.
        let (again, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await again.shutdown() } }
        #expect(try await again.request(harness.url("/answers/moderate")).status == .ok)
    }

    @Test("identity.groups.source: scim ignores the claims; claims ignores SCIM memberships")
    func groupSourceSetting() async throws {
        let scimOnly = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token, identity: "  groups: { source: scim }")
        defer { Task { await scimOnly.stop() } }
        let (ada, _) = try await scimOnly.signedIn("ada@example.com")
        defer { Task { await ada.shutdown() } }
        let adaUser = try #require(try await scimOnly.store.user(email: "ada@example.com"))
        #expect(try await scimOnly.store.groups(ofUser: adaUser.id).isEmpty, "the groups claim is not used")

        let claimsOnly = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token, identity: "  groups: { source: claims }")
        defer { Task { await claimsOnly.stop() } }
        let browser = try claimsOnly.browser()
        defer { Task { await browser.shutdown() } }
        let scim = SCIMTests.Client(harness: claimsOnly, browser: browser)
        let (sam, _) = try await claimsOnly.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let samID = try await scim.id(ofUser: "sam@example.com")
        #expect(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Pushed","members":[{"value":"\#(samID)"}]}"#).status == .created)
        #expect(try await claimsOnly.store.groups(ofUser: samID).map(\.name) == ["Sales"])
    }
}
}
