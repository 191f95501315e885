import Foundation
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Testing
import PortcullisDataPath
import PortcullisControlPlane
import PortcullisDevelopment

extension ServerTests {
@Suite("Interoperability with a third-party OpenID Provider")
struct InteroperabilityTests {
    @Test("the whole login works against oidc-provider-mock (PyPI, RS256, started by the test)")
    func mockProvider() async throws {
        try #require(MockOIDCProvider.isInstalled, "pip install oidc-provider-mock (scripts/setup-debian does)")
        let users: [[String: Any]] = [[
            "sub": "grace", "email": "grace@example.com", "name": "Grace Hopper", "department": "Engineering", "groups": ["IT-Admins"],
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
}
}
