import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import PortcullisCore
import PortcullisDataPath
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
/// The attacks an adversarial review of the rebuilt data path found, over real sockets, kept as
/// regression tests.
@Suite("Attacks over real sockets")
struct DataPathAttackServerTests {
    // MARK: A1 — a junk session cookie makes the gateway forward the bearer token

    @Test("A1: a junk session cookie beside a bearer JWT: the token never travels to the upstream (not allowed, or revoked)")
    func junkCookieCarriesBearer() async throws {
        let (harness, root) = try await IdentityLifetimeTests.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        // Bearer JWTs never create accounts: Sam signs in through SSO once.
        let (samBrowser, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await samBrowser.shutdown() } }
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }

        // Baseline (the existing test): a bearer on a public route that does not allow bearers is stripped.
        let plain = try await client.request(harness.url("/public/echo"), headers: [("Authorization", "Bearer \(jwt)")])
        let plainEcho = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(plain.body.utf8))
        #expect(plainEcho.values("authorization") == [])

        // The same with any value in the session cookie: the cookie is looked at, the bearer never is.
        let junk = try await client.request(harness.url("/public/echo"),
                                            headers: [("Authorization", "Bearer \(jwt)"), ("Cookie", "__Host-portcullis=x")])
        let junkEcho = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(junk.body.utf8))
        #expect(junkEcho.values("authorization") == [], "the IdP bearer token reached the upstream of a public route")

        // After sign-out-all the token is revoked at the gateway; with the junk cookie it still travels on.
        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        try await Task.sleep(for: .milliseconds(1_200))
        let refused = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")],
                                               accept: "application/json")
        #expect(refused.status == .unauthorized, "the revoked bearer is refused where bearers are allowed")
        let revoked = try await client.request(harness.url("/public/echo"),
                                               headers: [("Authorization", "Bearer \(jwt)"), ("Cookie", "__Host-portcullis=x")])
        let revokedEcho = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(revoked.body.utf8))
        #expect(revokedEcho.values("authorization") == [], "a revoked bearer token reached the upstream")
    }

    // MARK: A2 — HTTP/2: a half-open stream keeps the connection for ever

    @Test("A2: HTTP/2 HEADERS with content-length: 0 and no END_STREAM: the stream ends with its response, the connection idles out")
    func http2HalfOpenStreamHoldsConnection() async throws {
        let gateway = try await TestGateway.start(
            serverExtra: "  limits: { idle_timeout: 1s, stream_idle_timeout: 1s, body_timeout: 1s, send_timeout: 1s, header_timeout: 1s }"
        )
        defer { Task { await gateway.stop() } }
        // Control: a complete request; the idle connection is closed after idle_timeout.
        let control = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let done = try await control.send([.headers(HostileStream.head("GET", "/echo"), endStream: true)])
        await done.waitForEnd(timeout: .seconds(3))
        #expect(done.status == "200")
        try await Task.sleep(for: .seconds(4))
        #expect(!control.channel.isActive, "control: an idle HTTP/2 connection is closed")

        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let stream = try await client.send([.headers(HostileStream.head("GET", "/echo", extra: [("content-length", "0")]), endStream: false)])
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline, !stream.frames.withLock({ $0.contains("DATA END_STREAM") }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(stream.status == "200", "\(stream.frames.withLock { $0 })")
        try await Task.sleep(for: .seconds(4))
        #expect(stream.closed.withLock { $0 }, "the stream is closed once its response is written")
        #expect(!client.channel.isActive, "the connection is closed after idle_timeout (every limit is 1 s)")
        await client.close()
        await control.close()
    }

    // MARK: A3 — HTTP/1.1: a client that does not read

    /// The most a TCP socket's send buffer grows to (`tcp_wmem`'s third field).
    static func sendBufferMaximum() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) } ?? 4_194_304
    }

    static let protectedRoutes = """
          - { name: app, path: /app, upstream: "{UPSTREAM}", require: public }
        """

    @Test("A3: a client that never reads cannot make the gateway buffer answers without bound, nor pin the connection",
          arguments: [true, false])
    func blockedClientFloodAndPin(_ finalClose: Bool) async throws {
        let gateway = try await TestGateway.start(
            routes: Self.protectedRoutes,
            serverExtra: "  limits: { send_timeout: 3s, idle_timeout: 8s, header_timeout: 8s }"
        )
        defer { Task { await gateway.stop() } }
        // Anything outside /app is a page of the gateway's own: ~50 bytes in, a few hundred out.
        let request = "GET /x HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n"
        let probe = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await probe.send(request)
        let one = await probe.wait { $0.contains("\r\n\r\n") && $0.hasSuffix("</html>\n") || $0.hasSuffix("</html>") }.utf8.count
        await probe.close()
        #expect(one > 100)

        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots(),
                                                    receiveBuffer: 4_096)
        try await client.stopReading()
        // 40,000 pipelined requests (2.3 MB), written without waiting, would take 40,000 answers.
        // The kernel holds some of them: the gateway's send buffer grows to tcp_wmem's maximum.
        // Past that the gateway must stop reading rather than queue answers in memory.
        let count = 40_000
        var flood = String(repeating: request, count: count)
        if finalClose { flood += "GET /last HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" }
        client.channel.writeAndFlush(ByteBuffer(string: flood), promise: nil)
        func answered() -> Int {
            gateway.logs.all.filter { $0.label == "portcullis.access" && $0.message == "request" }.count
        }
        func connections() -> Int { gateway.gateway.runtime.metrics.currentConnections }
        // The connection is closed send_timeout (3 s) after the client stopped taking answers,
        // and the answers stop with it.
        let deadline = ContinuousClock.now + .seconds(12)
        while ContinuousClock.now < deadline, connections() > 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(connections() == 0, "the connection is still open long after the client stopped reading (send_timeout 3 s)")
        let total = answered()
        let kernel = Self.sendBufferMaximum()
        // Slack: what one more read brings (64 KiB of requests) once the socket stopped taking answers.
        let bound = (kernel + 65_536 * one / request.utf8.count) / one
        #expect(total > 0 && total <= bound && total < count,
                "the gateway answered \(total) of \(count) requests (\(one) bytes each) to a client that read nothing (it has \(client.bytes.count) bytes); the kernel holds \(kernel) bytes")
        await client.close()
    }
}
}
