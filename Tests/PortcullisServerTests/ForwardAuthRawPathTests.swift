import Foundation
import NIOHTTP1
import NIOSSL
import PortcullisCore
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
/// Found by the adversarial review of issue 21: forward-auth decided on the *normalised* path
/// (`..` applied, `%2F` and `\` as separators), while nginx and Caddy forward the *raw*
/// request-target to the app, so `/admin/../public/x` was allowed as `/public/x` and a Flask app
/// served its `/admin/…` page to anyone. Now such a path is refused 400 (`bad_forward_auth_request`)
/// and the front proxy sends nothing to the app. And the shipped Caddyfile drops the client's
/// `X_Portcullis_*` spellings, which CGI/WSGI servers read as the identity headers.
@Suite("Forward-auth: the path decided is the path the app gets")
struct ForwardAuthRawPathTests {
    static let routes = ForwardAuthInteropTests.routes

    /// Raw targets whose normalised form is `/public/x` (public) but whose first raw segment is `admin`.
    static let targets = [
        "/admin/../public/x",
        "/admin/%2e%2e/public/x",
        "/admin/..%2Fpublic/x",
        "/admin/..%5Cpublic/x",
        "/admin/..\\public/x",
    ]

    @Test("a raw target that normalises to a public route but reads as /admin to the app is refused, and nothing reaches the app",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func rawTargetReachesApp(_ kind: FrontProxy.Kind) async throws {
        let port = try await TestUpstream.deadPort()
        let harness = try await SSOHarness.start(
            routes: Self.routes,
            sessions: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]",
            publicPort: port,
            serverExtra: "  trusted_proxies: [127.0.0.1/32]"
        )
        let proxy: FrontProxy
        do {
            proxy = try await FrontProxy.start(kind, port: port, gatewayPort: harness.gatewayPort, appPort: harness.upstream.port,
                                               certificates: harness.certificates)
        } catch {
            await harness.stop()
            throw error
        }
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let trustRoots = try harness.certificates.trustRoots()

        // The plain request is refused: an anonymous caller may not see /admin.
        let plain = try await ForwardAuthInteropTests.send("GET /admin/x HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
        #expect(!plain.status.contains(" 200 "), "\(plain.text.prefix(300))")
        var reachedAdmin: [String] = []
        for target in Self.targets {
            let before = harness.upstream.received.withLock { $0.count }
            let answer = try await ForwardAuthInteropTests.send("GET \(target) HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
            let got = harness.upstream.received.withLock { Array($0.dropFirst(before)) }
            // Portcullis answers 400; nginx turns an auth_request answer other than 2xx/401/403
            // into a 500 of its own, Caddy passes the 400 on. Either way: refused.
            #expect(!answer.status.contains(" 200 "), "\(kind) \(target): \(answer.status)")
            #expect(got.isEmpty, "\(kind) \(target): the app received \(got)")
            if answer.status.contains(" 200 "), let uri = got.first, uri.hasPrefix("GET /admin") { reachedAdmin.append(target) }
        }
        #expect(reachedAdmin.isEmpty, "\(kind): anonymous requests reached the app under /admin: \(reachedAdmin)")
    }

    /// Portcullis's proxy mode strips `X_Portcullis_User` (CGI stacks read it as
    /// `HTTP_X_PORTCULLIS_USER`); in forward-auth mode the front proxy must. nginx drops names
    /// with `_` by default; the shipped Caddyfile removes both spellings.
    @Test("a client's X_Portcullis_* (underscore) identity headers never reach the app through the front proxy",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func underscoreIdentityHeaders(_ kind: FrontProxy.Kind) async throws {
        let port = try await TestUpstream.deadPort()
        let harness = try await SSOHarness.start(
            routes: Self.routes, sessions: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]",
            publicPort: port, serverExtra: "  trusted_proxies: [127.0.0.1/32]"
        )
        let proxy: FrontProxy
        do {
            proxy = try await FrontProxy.start(kind, port: port, gatewayPort: harness.gatewayPort, appPort: harness.upstream.port,
                                               certificates: harness.certificates)
        } catch {
            await harness.stop()
            throw error
        }
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let answer = try await ForwardAuthInteropTests.send(
            "GET /public/echo HTTP/1.1\r\nHost: localhost:\(port)\r\nX_Portcullis_User: root\r\nX_Portcullis_Email: root@example.com\r\n"
                + "X_Portcullis_Role: super_admin\r\n",
            to: port, trustRoots: try harness.certificates.trustRoots())
        let body = answer.text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(!body.lowercased().contains("x_portcullis_"), "\(kind): the app received the client's X_Portcullis_* headers: \(body.prefix(800))")
    }
}
}
