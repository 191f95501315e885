import Foundation
import Logging
import NIOHTTP1
import PortcullisCore
import PortcullisDevelopment
import PortcullisStore
import PortcullisTestSupport
import PortcullisTokens
import Testing

extension ServerTests {
/// The identity provider's own calls (SCIM, back-channel logout) come from its servers, which
/// no tenant greenlist for people holds (issue 21 item 14): they answer to their own allowlists
/// instead, and a refusal there is logged as an error. Before, a tenant greenlist silently
/// refused them, and deprovisioning and logouts stopped without anyone noticing.
@Suite("Identity provider calls and the tenant greenlist")
struct IdentityProviderNetworksTests {
    /// The identity provider's servers (behind the trusted proxy on 127.0.0.1).
    static let idpAddress = "20.190.128.7"

    static func start() async throws -> (SSOHarness, AdminClient) {
        let harness = try await SSOHarness.start(
            scimToken: SCIMTests.token, scimNetworks: "[20.190.128.0/18]", serverExtra: "  trusted_proxies: [127.0.0.1/32]",
            oidc: "    backchannel_allowed_networks: [20.190.128.0/18]"
        )
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        // People may only come from loopback.
        #expect(try await root.call(.PUT, "/greenlists/office", json: #"{"entries":[{"cidr":"127.0.0.0/8","label":"office"}]}"#).status == .ok)
        #expect(try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"office"}"#).status == .ok)
        return (harness, root)
    }

    @Test("SCIM from the IdP's network passes a tenant greenlist that does not hold it; from elsewhere it is refused and logged as an error")
    func scim() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let idp = SCIMTests.Client(harness: harness, browser: browser)

        let users = try await idp.call(.GET, "/Users", headers: [("X-Forwarded-For", Self.idpAddress)])
        #expect(users.status == .ok, "SCIM from the IdP's network: \(users.status) \(users.body.prefix(200))")
        let created = try await idp.call(
            .POST, "/Users", json: #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@example.com","active":true}"#,
            headers: [("X-Forwarded-For", Self.idpAddress)]
        )
        #expect(created.status == .created, "\(created.body.prefix(200))")

        let elsewhere = try await idp.call(.GET, "/Users", headers: [("X-Forwarded-For", "203.0.113.9")])
        #expect(elsewhere.status == .forbidden)
        #expect(elsewhere.headers.first(name: "x-portcullis-reason") == ReasonCode.ipNotGreenlisted.rawValue)
        #expect(harness.logs.all.contains {
            $0.level == .error && $0.message.contains("identity provider call was refused") && $0.metadata["client"] == "203.0.113.9"
        }, "the refusal of a SCIM call was not logged as an error")

        // The exemption is for the IdP's endpoints only: from its network, nothing else passes.
        let app = try await browser.request(harness.url("/public/echo"), headers: [("X-Forwarded-For", Self.idpAddress)], accept: "application/json")
        #expect(app.status == .forbidden)
        #expect(app.headers.first(name: "x-portcullis-reason") == ReasonCode.ipNotGreenlisted.rawValue)
        // Another spelling of the path is not the endpoint: the tenant greenlist applies.
        let spelled = try await browser.request(
            harness.url("/_portcullis/SCIM/v2/Users"), headers: [("X-Forwarded-For", Self.idpAddress), ("Authorization", "Bearer \(SCIMTests.token)")],
            accept: "application/json"
        )
        #expect(spelled.status == .forbidden)
    }

    @Test("back-channel logout from the IdP's network passes the tenant greenlist and ends the session; from elsewhere it is refused")
    func backchannelLogout() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let token = try #require(sam.cookie("__Host-portcullis", for: harness.origin))
        let hash = try #require(SessionToken.hash(of: token))
        let sid = try #require(try await harness.sqlite.session(hash)?.idpSessionID)
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }

        let refusedToken = try await harness.idp.logoutToken(subject: "sub-sam", sessionID: sid, jti: "jti-elsewhere")
        let refused = try await client.request(
            harness.url("/_portcullis/backchannel-logout"), method: .POST, headers: [("X-Forwarded-For", "203.0.113.9")],
            form: ["logout_token": refusedToken]
        )
        #expect(refused.status == .forbidden)
        #expect(try await sam.request(harness.url("/echo"), accept: "application/json").status == .ok, "a refused logout ended the session")

        let logoutToken = try await harness.idp.logoutToken(subject: "sub-sam", sessionID: sid, jti: "jti-idp")
        let logout = try await client.request(
            harness.url("/_portcullis/backchannel-logout"), method: .POST, headers: [("X-Forwarded-For", Self.idpAddress)],
            form: ["logout_token": logoutToken]
        )
        #expect(logout.status == .ok, "\(logout.status) \(logout.body.prefix(200))")
        let after = try await sam.request(harness.url("/echo"), accept: "application/json")
        #expect(after.status == .unauthorized)
    }
}
}
