import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
@Suite("Interoperability with a third-party OpenID Provider")
struct InteroperabilityTests {
    @Test("the whole login works against oidc-provider-mock (PyPI, RS256, started by the test)")
    func mockProvider() async throws {
        try #require(MockOIDCProvider.isInstalled, "pip install oidc-provider-mock (scripts/setup-debian does)")
        let users: [[String: Any]] = [[
            "sub": "grace", "email": "grace@example.com", "email_verified": true, "name": "Grace Hopper", "department": "Engineering", "groups": ["IT-Admins"],
        ]]
        let mock = try await MockOIDCProvider.withRunning(users: users) { provider in
            let harness = try await SSOHarness.start(externalIssuer: provider.issuer)
            defer { Task { await harness.stop() } }
            let browser = try harness.browser()
            defer { Task { await browser.shutdown() } }

            let form = try await browser.follow(try await browser.request(harness.url("/echo?via=mock")))
            #expect(form.status == .ok)
            #expect(form.url.hasPrefix(provider.issuer + "/oauth2/authorize"))
            // The mock's form takes a subject; its predefined user carries the claims.
            let posted = try await browser.request(form.url, method: .POST, form: ["sub": "grace"])
            let page = try await browser.follow(posted, accept: "application/json")
            #expect(page.status == .ok, "\(page.url) \(page.body.prefix(300))")
            let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
            #expect(echo.uri == "/echo?via=mock")
            #expect(echo.values("x-portcullis-email") == ["grace@example.com"])
            let user = try #require(try await harness.sqlite.user(subject: "grace"))
            #expect(user.name == "Grace Hopper")
            #expect(try await harness.sqlite.groups(ofUser: user.id).map(\.name) == ["IT-Admins"])
            return provider.process
        }
        // It does not exit on SIGTERM: it was killed, and reaped.
        #expect(!mock.isRunning)
        #expect(ProcessTable.entry(mock.pid) == nil, "oidc-provider-mock outlived the test")
    }

    /// Configured as real providers behave (issue 12): the ID token carries only the subject,
    /// email, name, groups and department come from UserInfo, and `email_verified` is never
    /// sent. Without `trust_email` the bootstrapped super admin is not linked; with it, it is,
    /// and refresh tokens drive "sync now" and end the session when the provider revokes them.
    @Test("oidc-provider-mock with claims only in UserInfo and no email_verified: linking, sync now, invalid_grant")
    func userInfoOnlyProvider() async throws {
        try #require(MockOIDCProvider.isInstalled, "pip install oidc-provider-mock (scripts/setup-debian does)")
        let users: [[String: Any]] = [[
            "sub": "grace", "email": "grace@example.com", "name": "Grace Hopper", "department": "Engineering", "groups": ["IT-Admins"],
        ]]
        try await MockOIDCProvider.withRunning(users: users, claimsOnlyInUserInfo: true) { provider in
            // Not trusted for email: the sign-in is refused and nothing is linked.
            let strict = try await SSOHarness.start(externalIssuer: provider.issuer)
            defer { Task { await strict.stop() } }
            try await AdminAPITests.bootstrap(strict, "grace@example.com")
            let refused = try await Self.signIn(strict, provider: provider, subject: "grace")
            #expect(refused.page.status == .forbidden && refused.page.body.contains("email_unverified"), "\(refused.page.body.prefix(300))")
            await refused.browser.shutdown()
            #expect(try await strict.store.user(email: "grace@example.com")?.subject == nil)

            let harness = try await SSOHarness.start(
                routes: AdminAPITests.routes, externalIssuer: provider.issuer, oidc: "    trust_email: true\n" + IdentityRefreshTests.refreshKey
            )
            defer { Task { await harness.stop() } }
            try await AdminAPITests.bootstrap(harness, "grace@example.com")
            let (browser, page) = try await Self.signIn(harness, provider: provider, subject: "grace")
            defer { Task { await browser.shutdown() } }
            #expect(page.status == .ok, "\(page.url) \(page.body.prefix(300))")
            let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
            #expect(echo.values("x-portcullis-email") == ["grace@example.com"])
            #expect(echo.values("x-portcullis-role") == ["super_admin"], "the bootstrapped super admin was linked through UserInfo's email")
            let user = try #require(try await harness.store.user(subject: "grace"))
            #expect(user.name == "Grace Hopper" && user.department == "Engineering")
            #expect(try await harness.store.groups(ofUser: user.id).map(\.name) == ["IT-Admins"])
            #expect(try await harness.store.refreshToken(userID: user.id) != nil)

            // The provider moves Grace to another group; "sync now" reads it through the refresh token.
            try await provider.setClaims(["email": "grace@example.com", "name": "Grace Hopper", "groups": ["Navy"]], of: "grace")
            let csrf = try #require(try await Self.csrf(browser, harness))
            let synced = try await browser.request(
                harness.url("/_portcullis/api/v1/teammates/grace@example.com/sync"), method: .POST, headers: [("X-CSRF-Token", csrf)], json: "{}",
                accept: "application/json"
            )
            #expect(synced.status == .ok, "\(synced.body)")
            #expect(synced.body.contains(#""groups_after":["Navy"]"#) && synced.body.contains(#""groups_before":["IT-Admins"]"#), "\(synced.body)")

            // The provider revokes Grace's tokens: the next refresh is invalid_grant and her sessions end.
            try await provider.revokeTokens(of: "grace")
            let ended = try await browser.request(
                harness.url("/_portcullis/api/v1/teammates/grace@example.com/sync"), method: .POST, headers: [("X-CSRF-Token", csrf)], json: "{}",
                accept: "application/json"
            )
            #expect(ended.status == .ok && ended.body.contains("idp_session_ended"), "\(ended.body)")
            #expect(try await browser.request(harness.url("/echo"), accept: "application/json").status == .unauthorized)
        }
    }

    static func signIn(_ harness: SSOHarness, provider: MockOIDCProvider, subject: String) async throws -> (browser: TestBrowser, page: TestBrowser.Page) {
        let browser = try harness.browser()
        let form = try await browser.follow(try await browser.request(harness.url("/echo")))
        guard form.url.hasPrefix(provider.issuer + "/oauth2/authorize") else {
            await browser.shutdown()
            throw TestFailure("expected the provider's form, got \(form.url)")
        }
        let posted = try await browser.request(form.url, method: .POST, form: ["sub": subject])
        return (browser, try await browser.follow(posted, accept: "application/json"))
    }

    static func csrf(_ browser: TestBrowser, _ harness: SSOHarness) async throws -> String? {
        let me = try await browser.request(harness.url("/_portcullis/api/v1/me"), accept: "application/json")
        return ((try? JSONSerialization.jsonObject(with: Data(me.body.utf8))) as? [String: Any])?["csrf_token"] as? String
    }
}
}
