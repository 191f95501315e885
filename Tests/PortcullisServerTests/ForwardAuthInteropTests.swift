import Foundation
import NIOHTTP1
import NIOSSL
import PortcullisCore
import Synchronization
import Testing

extension ServerTests {
/// Forward-auth with the proxies organisations already run: a real nginx (`auth_request`) and a
/// real Caddy (`forward_auth`) in front of the test app, configured with the files under
/// `conf/forward-auth/` that the README shows, asking the gateway about every request. Sign-in,
/// callback and logout go through the proxy on the app's own host.
@Suite("Forward-auth with real nginx and Caddy")
struct ForwardAuthInteropTests {
    static let routes = """
          - { name: public, path: /public, upstream: "{UPSTREAM}", require: public }
          - { name: office, path: /office, upstream: "{UPSTREAM}", require: authenticated, greenlist: office }
          - { name: admin-only, path: /admin, upstream: "{UPSTREAM}", require: { permission: teammates.view } }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    static func identityHeaders(_ page: TestBrowser.Page) throws -> [String: [String]] {
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
        var found: [String: [String]] = [:]
        for name in echo.names where name.lowercased().hasPrefix("x-portcullis") {
            found[name.lowercased()] = echo.values(name)
        }
        return found
    }

    @Test("allowed, sign-in, refused, revoked and spoofed, through each proxy", arguments: [FrontProxy.Kind.nginx, .caddy])
    func throughProxy(_ kind: FrontProxy.Kind) async throws {
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

        // A public page: no identity, and a client's own identity headers never reach the app.
        let visitor = try harness.browser()
        defer { Task { await visitor.shutdown() } }
        let open = try await visitor.request(harness.url("/public/echo"), headers: [
            ("X-Portcullis-User", "root"), ("X-Portcullis-Role", "super_admin"), ("X-Portcullis-Assertion", "forged"),
        ])
        #expect(open.status == .ok, "\(open.status) \(open.body.prefix(300)) \(proxy.errorLog.suffix(1_000))")
        #expect(try Self.identityHeaders(open) == [:], "\(open.body)")
        // A credential Portcullis reads and the act-as header never reach the app.
        let carried = try await visitor.request(harness.url("/public/echo"), headers: [
            ("Authorization", "Bearer pct_notarealtoken0000000000000000000000"), ("X-Portcullis-Act-As", "root@example.com"),
        ])
        let carriedEcho = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(carried.body.utf8))
        #expect(carriedEcho.values("authorization") == [] && carriedEcho.values("x-portcullis-act-as") == [], "\(carried.body)")

        // Sign-in needed: the browser goes to the login on the app's host, through the IdP and back.
        let first = try await visitor.request(harness.url("/echo?x=1&y=2"))
        #expect(first.status == .found)
        #expect(first.location?.hasPrefix("/_portcullis/login?rd=") == true, "\(first.location ?? "none")")
        let (sam, landed) = try await harness.signedIn("sam@example.com", at: "/echo?x=1&y=2")
        defer { Task { await sam.shutdown() } }
        #expect(landed.status == .ok, "\(landed.status) \(landed.url) \(landed.body.prefix(300))")
        #expect(landed.url.hasSuffix("/echo?x=1&y=2"))
        let identity = try Self.identityHeaders(landed)
        #expect(identity["x-portcullis-email"] == ["sam@example.com"])
        #expect(identity["x-portcullis-role"] == ["member"])
        #expect(identity["x-portcullis-assertion"]?.first?.split(separator: ".").count == 3)
        // A signed-in caller's forged headers are replaced by the gateway's.
        let forged = try await sam.request(harness.url("/echo"), headers: [("X-Portcullis-Role", "super_admin")])
        #expect(try Self.identityHeaders(forged)["x-portcullis-role"] == ["member"])

        // API clients get 401, not a redirect.
        let api = try await visitor.request(harness.url("/echo"), accept: "application/json")
        #expect(api.status == .unauthorized)

        // Refused: 403 with the reason code.
        let refused = try await sam.request(harness.url("/admin/settings"))
        #expect(refused.status == .forbidden)
        #expect(refused.headers.first(name: "x-portcullis-reason") == "permission_required", "\(refused.headers)")
        let office = try await sam.request(harness.url("/office/x"))
        #expect(office.status == .forbidden)
        #expect(office.headers.first(name: "x-portcullis-reason") == "ip_not_greenlisted")

        // Revoked: after sign-out-all, the same cookie is sent to sign in again.
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let out = try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}")
        #expect(out.status == .ok, "\(out.body)")
        let afterSignOut = try await sam.request(harness.url("/echo"))
        #expect(afterSignOut.status == .found)
        #expect(afterSignOut.location?.hasPrefix("/_portcullis/login") == true)

        // Logout through the proxy ends the session.
        let (grace, _) = try await harness.signedIn("grace@example.com", at: "/echo")
        defer { Task { await grace.shutdown() } }
        let logout = try await grace.request(harness.url("/_portcullis/logout"), method: .POST, headers: [("Origin", harness.origin)])
        #expect([.found, .seeOther].contains(logout.status), "\(logout.status) \(logout.body.prefix(200))")
        #expect(try await grace.request(harness.url("/echo")).status == .found)

        // Spoofed forward-auth headers from a peer that is not a trusted proxy: refused.
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/")) ?? ""
        let spoofer = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots(), from: "127.0.0.2")
        try await spoofer.send("GET /_portcullis/auth HTTP/1.1\r\nHost: localhost\r\nX-Original-URI: /public/x\r\nX-Forwarded-For: 127.0.0.1\r\nCookie: __Host-portcullis=\(cookie)\r\n\r\n")
        let spoofed = await spoofer.wait { $0.contains("\r\n\r\n") }
        #expect(spoofed.hasPrefix("HTTP/1.1 403"), "\(spoofed)")
        #expect(spoofed.contains("forward_auth_untrusted"))
        await spoofer.close()
    }

    /// Routes for the steering attempts: a public route on another host and a GET-only public
    /// route, so that a forged host or method would have somewhere to go.
    static let steeringRoutes = routes + """

          - { name: other-host, host: public.test, path: /, upstream: "{UPSTREAM}", require: public }
          - { name: catalog, path: /catalog, methods: [GET], upstream: "{UPSTREAM}", require: public }
        """

    /// What a client adds to its own request to `/admin/settings` (or `POST /catalog`) hoping
    /// the gateway decides on something else: each must leave the decision as it was.
    static func steeringAttempts(port: Int) -> [(String, String)] {
        let host = "Host: localhost:\(port)\r\n"
        let admin = "GET /admin/settings HTTP/1.1\r\n"
        let post = "POST /catalog HTTP/1.1\r\nContent-Length: 0\r\n"
        return [
            ("X-Original-URL", admin + host + "X-Original-URL: https://localhost:\(port)/public/x\r\n"),
            ("X-Original-URL, another host", admin + host + "X-Original-URL: https://public.test/x\r\n"),
            ("X-Original-URI", admin + host + "X-Original-URI: /public/x\r\n"),
            ("X-Original_URI", admin + host + "X-Original_URI: /public/x\r\n"),
            ("X-Rewrite-URL", admin + host + "X-Rewrite-URL: /public/x\r\n"),
            ("X-Forwarded-Uri", admin + host + "X-Forwarded-Uri: /public/x\r\n"),
            ("X-Forwarded-Host", admin + host + "X-Forwarded-Host: public.test\r\n"),
            ("Host", admin + "Host: public.test\r\n"),
            ("every header", admin + "Host: public.test\r\nX-Original-URL: https://public.test/x\r\nX-Original-URI: /public/x\r\n"
                + "X-Forwarded-Uri: /public/x\r\nX-Forwarded-Host: public.test\r\nX-Forwarded-Method: GET\r\nX-Original-Method: GET\r\n"),
            ("X-Original-Method", post + host + "X-Original-Method: GET\r\n"),
            ("X-Forwarded-Method", post + host + "X-Forwarded-Method: GET\r\n"),
        ]
    }

    /// One request on its own connection to the front proxy; the status line and the body.
    static func send(_ request: String, to port: Int, trustRoots: NIOSSLTrustRoots) async throws -> (status: String, text: String) {
        let client = try await RawTLSClient.connect(port: port, trustRoots: trustRoots)
        defer { Task { await client.close() } }
        try await client.send(request + "Connection: close\r\n\r\n")
        _ = await client.waitForClose(timeout: .seconds(10))
        let text = client.text
        return (text.components(separatedBy: "\r\n").first ?? "", text)
    }

    @Test("headers a client adds never steer the decision: X-Original-URL/-URI/-Method, X-Forwarded-Uri/-Host/-Method, Host",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func clientCannotSteer(_ kind: FrontProxy.Kind) async throws {
        let port = try await TestUpstream.deadPort()
        let harness = try await SSOHarness.start(
            routes: Self.steeringRoutes,
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
        let (sam, _) = try await harness.signedIn("sam@example.com", at: "/echo")
        defer { Task { await sam.shutdown() } }
        let cookie = try #require(sam.cookie("__Host-portcullis", for: harness.url("/")))

        // The decisions being attacked, asked plainly: the public page passes, the admin page
        // and a POST to the GET-only route do not.
        let open = try await Self.send("GET /public/x HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
        #expect(open.status == "HTTP/1.1 200 OK", "\(open.text.prefix(400))")
        for caller in ["", "Cookie: __Host-portcullis=\(cookie)\r\n"] {
            let who = caller.isEmpty ? "anonymous" : "member"
            for (name, request) in Self.steeringAttempts(port: port) {
                let reached = harness.upstream.received.withLock { $0.count }
                let answer = try await Self.send(request + caller, to: port, trustRoots: trustRoots)
                #expect(harness.upstream.received.withLock { $0.count } == reached,
                        "\(kind) \(who) with \(name): the app was reached: \(answer.text.prefix(600))")
                #expect(!answer.status.contains(" 200 ") || !answer.text.contains("\"uri\""),
                        "\(kind) \(who) with \(name): \(answer.text.prefix(600))")
            }
        }
        // And with the shipped configuration the answer is the plain one, not merely a refusal:
        // the proxy cleared the client's copies before asking.
        let plain = try await Self.send("GET /admin/settings HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
        let forged = try await Self.send(
            "GET /admin/settings HTTP/1.1\r\nHost: localhost:\(port)\r\nX-Original-URL: https://localhost:\(port)/public/x\r\n"
                + "X-Forwarded-Uri: /public/x\r\nX-Forwarded-Host: public.test\r\n",
            to: port, trustRoots: trustRoots
        )
        #expect(forged.status == plain.status, "\(kind): \(forged.text.prefix(400)) against \(plain.text.prefix(400))")
    }
}
}
