import Foundation
import NIOHTTP1
import NIOSSL
import PortcullisCore
import PortcullisDataPathTesting
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 3, through the shipped nginx and Caddy configurations in
/// forward-auth mode.
@Suite("Forward-auth: attacks (review round 3)")
struct ForwardAuthRound3AttackTests {
    /// Identity headers that widely used front proxies set and their apps trust, which are in
    /// none of `HeaderRules`' lists: the question carrying one is decided as usual, and the
    /// front proxy hands the client's copy to the app. (Tailscale Serve's `Tailscale-User-*`;
    /// Kong's `X-Consumer-*` and `X-Authenticated-Userid`; lua-resty-openidc and Kong's OIDC
    /// plugin's `X-Userinfo`; mod_auth_openidc's `OIDC_CLAIM_*`, which CGI stacks read from the
    /// `-` spelling too; Blue Coat/Squid's `X-Authenticated-User`.)
    static let unlistedIdentity = [
        ("Tailscale-User-Login", "root@example.com"), ("Tailscale-User-Name", "Root"),
        ("X-Consumer-Username", "root"), ("X-Authenticated-Userid", "root"),
        ("X-Userinfo", "eyJzdWIiOiJyb290IiwiZW1haWwiOiJyb290QGV4YW1wbGUuY29tIn0"),
        ("OIDC-CLAIM-email", "root@example.com"), ("X-Authenticated-User", "WinNT://CORP/root"),
    ]

    @Test("identity headers of other front proxies outside HeaderRules' lists never reach the app through the front proxy",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func unlistedIdentityHeaders(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        try await ForwardAuthFrontProxyTests.neverReachTheApp(Self.unlistedIdentity, harness: harness, kind: kind, port: port)
    }

    /// Raw targets that read as `/admin/…` to some reading of the path (dot segments after one
    /// decoding, Tomcat's `;params` cut before decoding, mixed separators, overlong UTF-8,
    /// `%u` escapes, NUL, tabs), each sent anonymously: none may be answered 200 with the app
    /// receiving a target under `/admin` (read by `RequestTarget`, as the decision reads it, and
    /// Tomcat-style) or holding a dot segment.
    static let exoticTargets = [
        "/public/%252e%252e/admin/x", "/public/%c0%ae%c0%ae/admin/x", "/public/%u002e%u002e/admin/x", "/public/..%00/admin/x",
        "/public/..%09/admin/x", "/public/%3B../admin/x", "/public/.%3B./admin/x", "/public/%2e%2E%3bx/admin/x",
        "/public/x/..;/..;/admin/x", "/public/x/..%2f..%2fadmin/x", "/public/x/%5c..%5c..%5cadmin/x", "/public/%3f/../admin/x",
        "/public/x?/../../admin/x", "//admin/x", "/;/admin/x", "/%2fadmin/x", "/public%2f..%2fadmin/x", "/public/..%20/admin/x",
        "/public/.. /admin/x", "/public/%ef%bc%8e%ef%bc%8e/admin/x", "/ADMIN/x", "/admin%3b/x", "/public/%2e%2e%2f/admin/x",
    ]

    /// Tomcat's reading: `;params` cut from each raw segment, then decoded, then dot segments applied.
    static func tomcatSegments(_ rawTarget: String) -> [String] {
        let path = rawTarget.prefix { $0 != "?" }
        var out: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            let bare = raw.prefix { $0 != ";" }
            let decoded = String(bare).removingPercentEncoding ?? String(bare)
            if decoded == "." || decoded.isEmpty { continue }
            if decoded == ".." { _ = out.popLast(); continue }
            out.append(decoded)
        }
        return out
    }

    @Test("no exotic raw target reaches the app as /admin through the front proxy", arguments: [FrontProxy.Kind.nginx, .caddy])
    func exoticTargetsNeverReachAdmin(_ kind: FrontProxy.Kind) async throws {
        let (harness, proxy, port) = try await ForwardAuthRawPathTests.start(kind)
        defer { proxy.stop() }
        defer { Task { await harness.stop() } }
        let trustRoots = try harness.certificates.trustRoots()
        var reached: [String] = []
        var statuses: [String] = []
        for target in Self.exoticTargets {
            let before = harness.upstream.received.withLock { $0.count }
            let answer: (status: String, text: String)
            do {
                answer = try await ForwardAuthInteropTests.send("GET \(target) HTTP/1.1\r\nHost: localhost:\(port)\r\n", to: port, trustRoots: trustRoots)
            } catch {
                statuses.append("\(target): \(error)")
                continue
            }
            let got = harness.upstream.received.withLock { Array($0.dropFirst(before)) }
            statuses.append("\(target): \(answer.status) app got \(got)")
            guard answer.status.contains(" 200 ") else { continue }
            for line in got {
                let uri = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
                let decided = (try? RequestTarget(parsing: uri).path.segments) ?? []
                // The app reads the path before any `?`: a `..` in the query is the query's.
                let pathPart = String(uri.prefix { $0 != "?" })
                let tomcat = Self.tomcatSegments(pathPart)
                let hasDotSegment = pathPart.split(separator: "/").contains { $0 == ".." || $0.lowercased() == "%2e%2e" }
                if decided.first?.lowercased() == "admin" || tomcat.first?.lowercased() == "admin" || hasDotSegment {
                    reached.append("\(target) -> \(line) (\(answer.status))")
                }
            }
        }
        print("exoticTargets \(kind):\n" + statuses.joined(separator: "\n"))
        #expect(reached.isEmpty, "\(kind): anonymous requests reached the app under /admin: \(reached)")
    }

    /// A chunked request's trailer section: nginx drops it, but Caddy's `request_header`
    /// directives edit only the header section, while Go's HTTP/1.1 transport sends the trailers
    /// the client declared on to the app. Servers that merge trailers into headers (Apache's
    /// `MergeTrailers on`, older Tomcat with `allowedTrailerHeaders`) then read them as the
    /// client's `X-Portcullis-User`.
    @Test("a client's X-Portcullis-User in a chunked trailer never reaches the app through the front proxy",
          arguments: [FrontProxy.Kind.nginx, .caddy])
    func identityInTrailer(_ kind: FrontProxy.Kind) async throws {
        let port = try await TestUpstream.deadPort()
        let harness = try await SSOHarness.start(
            routes: ForwardAuthRawPathTests.routes, sessions: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]",
            publicPort: port, serverExtra: "  trusted_proxies: [127.0.0.1/32]"
        )
        defer { Task { await harness.stop() } }
        let app = try await RecordingUpstream.start()
        defer { Task { await app.close() } }
        let proxy = try await FrontProxy.start(kind, port: port, gatewayPort: harness.gatewayPort, appPort: app.port,
                                               certificates: harness.certificates)
        defer { proxy.stop() }
        let request = "POST /public/echo HTTP/1.1\r\nHost: localhost:\(port)\r\nTransfer-Encoding: chunked\r\n"
            + "Trailer: X-Portcullis-User\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            + "5\r\nhello\r\n0\r\nX-Portcullis-User: root\r\n\r\n"
        // Caddy may take the port a moment before it answers TLS on it: a few tries.
        var connected: RawTLSClient?
        for attempt in 1...5 {
            do {
                connected = try await RawTLSClient.connect(port: port, trustRoots: try harness.certificates.trustRoots())
                break
            } catch where attempt < 5 {
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        let client = try #require(connected)
        defer { Task { await client.close() } }
        try await client.send(request)
        _ = await client.waitForClose(timeout: .seconds(10))
        let answer = client.text
        // The app may still be reading what Caddy sends after the answer.
        try await Task.sleep(for: .milliseconds(300))
        let parsed = app.parsed
        let trailers = parsed.flatMap(\.violations).filter { $0.contains("trailers") }
        let inHeaders = parsed.flatMap(\.requests).flatMap(\.headers).filter { $0.name.lowercased() == "x-portcullis-user" && $0.value == "root" }
        #expect(trailers.isEmpty && inHeaders.isEmpty,
                "\(kind): the app received the client's X-Portcullis-User (\(trailers), \(inHeaders)); answer \(answer.prefix(200)); app saw \(parsed.map(\.requests))")
    }
}
}
