import Foundation
import NIOHTTP1
import NIOSSL
import PortcullisCore
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
/// Adversarial review of issue 21 (second round), through the shipped nginx and Caddy
/// configurations in forward-auth mode: an anonymous client tries to reach `/admin/…` of the app,
/// or to hand the app an identity the gateway never gave.
@Suite("Forward-auth: what a client sends never steers the app behind nginx or Caddy")
struct ForwardAuthFrontProxyTests {
    /// Raw targets with `;params` percent-encoded after a `..`: the decision reads `..;` as `..`
    /// (`RequestTarget` decodes, then cuts `;params`), so they normalise to `/public/x`, while
    /// `isPlainPath` sees no dot segment and the app gets `/admin/…` raw.
    static let encodedParamTargets = [
        "/admin/..%3b/public/x",
        "/admin/..%3B/public/x",
        "/admin/%2e%2e%3b/public/x",
        "/admin/..%3bjsessionid=1/public/x",
    ]

    @Test("an encoded ; after .. never lets an anonymous request reach /admin of the app", arguments: [FrontProxy.Kind.nginx, .caddy])
    func encodedParamsReachAdmin(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        let trustRoots = try harness.certificates.trustRoots()
        var reachedAdmin: [String] = []
        for target in Self.encodedParamTargets {
            let before = harness.upstream.received.withLock { $0.count }
            let answer = try await ForwardAuthInteropTests.send("GET \(target) HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
            let got = harness.upstream.received.withLock { Array($0.dropFirst(before)) }
            #expect(!answer.status.contains(" 200 "), "\(kind) \(target): \(answer.status), the app received \(got)")
            if let uri = got.first, uri.hasPrefix("GET /admin") { reachedAdmin.append("\(target) -> \(uri) (\(answer.status))") }
        }
        #expect(reachedAdmin.isEmpty, "\(kind): anonymous requests reached the app under /admin: \(reachedAdmin)")
    }

    /// A raw `#` in the request-target (RFC 9112 has no fragment there): the decision reads the
    /// path up to it (`RequestTarget` drops a fragment, `isPlainPath` looks no further), while the
    /// front proxy passes the whole target on. The must-never checked here is the bytes one: the
    /// app never receives, from an allowed request, a target with a `..` segment in it.
    @Test("a raw # never carries dot segments past the decision to the app", arguments: [FrontProxy.Kind.nginx, .caddy])
    func fragmentCarriesDotSegments(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        let target = "/public/x#/../../admin/x"
        let before = harness.upstream.received.withLock { $0.count }
        let answer = try await ForwardAuthInteropTests.send("GET \(target) HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port,
                                                            trustRoots: try harness.certificates.trustRoots())
        let got = harness.upstream.received.withLock { Array($0.dropFirst(before)) }
        let carried = got.filter { $0.contains("/../") || $0.contains("/%2e%2e/") || $0.contains("%2F..%2F") }
        #expect(carried.isEmpty, "\(kind) \(target): \(answer.status), the app received \(got)")
    }

    /// The names of headers the app received, with `_` read as `-` and letter case folded, as
    /// CGI/WSGI/PHP servers read them (`HTTP_X_PORTCULLIS_USER`).
    static func receivedNames(_ answer: (status: String, text: String)) throws -> [String] {
        // The body may come chunked: the echo's JSON is one chunk.
        let body = answer.text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        guard let open = body.firstIndex(of: "{"), let close = body.lastIndex(of: "}") else {
            throw TestFailure("no echo in \(answer.text.prefix(500))")
        }
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(body[open...close].utf8))
        return echo.names
    }

    static func cgiName(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// Every spelling of `X-Portcullis-User` that mixes `-` and `_` (the shipped Caddyfile removes
    /// only the all-`-` and the all-`_` one).
    static let mixedSpellings = [
        ("X-Portcullis_User", "root"), ("X_Portcullis-User", "root"), ("X-Portcullis_Role", "super_admin"),
        ("X_Portcullis-Email", "root@example.com"), ("X-portcullis_roles", "super_admin"), ("X_PORTCULLIS-ASSERTION", "forged"),
        // And the method overrides the configuration removes as X-HTTP-Method-Override and X-Method-Override.
        ("X-HTTP-Method_Override", "DELETE"), ("X_Method-Override", "DELETE"),
    ]

    @Test("a client's X-Portcullis-* identity headers never reach the app through the front proxy, in any mix of - and _",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func mixedSpellingIdentityHeaders(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        try await Self.neverReachTheApp(Self.mixedSpellings, harness: harness, kind: kind, port: port)
    }

    /// Sends an anonymous request for a public page with `headers`, one at a time: the app never
    /// receives one (the question is refused, so the request is), while the same request
    /// without it is served.
    static func neverReachTheApp(_ headers: [(String, String)], harness: SSOHarness, kind: FrontProxy.Kind, port: Int) async throws {
        let trustRoots = try harness.certificates.trustRoots()
        let plain = try await ForwardAuthInteropTests.send("GET /public/echo HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
        #expect(plain.status.contains(" 200 "), "\(kind): the public page without forged headers: \(plain.status)")
        for (name, value) in headers {
            let before = harness.upstream.received.withLock { $0.count }
            let answer = try await ForwardAuthInteropTests.send(
                "GET /public/echo HTTP/1.1\r\nHost: localhost:\(port)\r\n\(name): \(value)\r\n", to: port, trustRoots: trustRoots
            )
            let got = harness.upstream.received.withLock { Array($0.dropFirst(before)) }
            if answer.status.contains(" 200 "), let names = try? receivedNames(answer) {
                let leaked = names.filter { cgiName($0) == cgiName(name) }
                #expect(leaked.isEmpty, "\(kind): the app received the client's \(leaked)")
            } else {
                #expect(got.isEmpty, "\(kind) \(name): \(answer.status), yet the app received \(got)")
            }
        }
    }

    /// A sample of the identity headers of other gateways, which Portcullis's proxy mode strips
    /// because an upstream that sat behind one may still trust it (issue 21 item 15,
    /// `HeaderRules.identityNames`).
    static let otherGatewaysIdentity = [
        ("Remote-User", "root"), ("Remote-Groups", "admins"), ("Remote-Email", "root@example.com"), ("X-Forwarded-User", "root"),
        ("X-Forwarded-Email", "root@example.com"), ("X-Forwarded-Groups", "admins"), ("X-Auth-Request-User", "root"),
        ("X-Auth-Request-Email", "root@example.com"), ("X-Remote-User", "root"), ("X-WEBAUTH-USER", "root"),
        ("X-Goog-Authenticated-User-Email", "accounts.google.com:root@example.com"), ("Cf-Access-Authenticated-User-Email", "root@example.com"),
        ("X-Amzn-Oidc-Identity", "root"), ("X-MS-CLIENT-PRINCIPAL-NAME", "root@example.com"), ("X-Forwarded-Client-Cert", "By=spiffe://x;URI=spiffe://root"),
        ("SSL-Client-Cert", "forged"),
    ]

    /// Headers that ask the app to serve another path, host or method, or to skip its own checks,
    /// which the proxy mode strips (`HeaderRules.overrideNames`) and the shipped configurations do not clear.
    static let otherOverrides = [
        ("X-Middleware-Subrequest", "middleware:middleware:middleware:middleware:middleware"), ("X-Script-Name", "/admin"),
        ("X-Original-Host", "admin.internal"), ("X-Envoy-Original-Path", "/admin/x"),
    ]

    @Test("the identity and override headers the gateway strips in proxy mode never reach the app through the front proxy either",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func otherGatewaysIdentityHeaders(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        try await Self.neverReachTheApp(Self.otherGatewaysIdentity + Self.otherOverrides + [("X-Forwarded-Prefix", "/admin")],
                                        harness: harness, kind: kind, port: port)
    }
}
}
