import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// A long response or a WebSocket tunnel is decided again every re-check interval, on what
/// holds then (issue 21 item 4): the whole route decision (role, greenlists), for the client's
/// address after `trusted_proxies` (not the proxy's). Before, a re-check only asked whether the
/// credential was still valid, for the TCP peer: a demoted user kept an open tunnel, and a
/// greenlist change never reached one. Over real sockets, with the development IdP and SQLite.
@Suite("Re-checks decide the route again")
struct RecheckDecisionTests {
    static let routes = """
          - { name: moderated-drip, path: /drip, upstream: "{UPSTREAM}", require: { permission: answers.manage_any } }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    static func start(serverExtra: String = "") async throws -> (SSOHarness, AdminClient) {
        let harness = try await SSOHarness.start(routes: routes, sessions: "sessions:\n  max_staleness: 1s", serverExtra: serverExtra)
        try await AdminAPITests.bootstrap(harness)
        return (harness, try await AdminClient.signIn(harness, as: "root@example.com"))
    }

    @Test("a long response on a route that needs a permission ends when its user loses the role that gave it")
    func demotionEndsLongResponse() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let granted = try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"member","secondary":["answers_moderator"]}"#)
        #expect(granted.status == .ok, "\(granted.body)")
        // Root holds the role too, so that taking it from sam is not refused as the last holder's.
        #expect(try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"super_admin","secondary":["answers_moderator"]}"#).status == .ok)
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/")) ?? ""
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        try await client.send("GET /drip HTTP/1.1\r\nHost: localhost\r\nCookie: __Host-portcullis=\(cookie)\r\n\r\n")
        let head = await client.wait { $0.contains("\r\n\r\n") }
        #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
        // Still allowed: the response goes on across re-checks...
        #expect(await !client.waitForClose(timeout: .seconds(2)))
        // ...until the role is taken away; the session itself stays good.
        let demoted = try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"member","secondary":[]}"#)
        #expect(demoted.status == .ok, "\(demoted.body)")
        let started = ContinuousClock.now
        #expect(await client.waitForClose(timeout: .seconds(5)), "the demoted user's response went on")
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(try await sam.request(harness.url("/echo")).status == .ok, "the session was not what ended it")
    }

    @Test("a WebSocket tunnel behind a trusted proxy closes when the tenant greenlist stops holding the client's address, not the proxy's")
    func greenlistClosesTunnelForClientAddress() async throws {
        let (harness, root) = try await Self.start(serverExtra: "  trusted_proxies: [127.0.0.1/32]")
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let both = #"{"entries":[{"cidr":"127.0.0.0/8","label":"loopback"},{"cidr":"198.51.100.0/24","label":"office"}]}"#
        #expect(try await root.call(.PUT, "/greenlists/safe", json: both).status == .ok)
        #expect(try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"safe"}"#).status == .ok)

        // The client is 198.51.100.20 behind the proxy on 127.0.0.1.
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/")) ?? ""
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await client.send(
            "GET /ws HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 198.51.100.20\r\nCookie: __Host-portcullis=\(cookie)\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        #expect(handshake.hasPrefix("HTTP/1.1 101"), "\(handshake)")
        #expect(await !client.waitForClose(timeout: .seconds(2)), "the tunnel closed while the client was greenlisted")

        // The office leaves the list; the proxy's own address (loopback) stays in it.
        let loopbackOnly = #"{"entries":[{"cidr":"127.0.0.0/8","label":"loopback"}]}"#
        let shrunk = try await root.call(.PUT, "/greenlists/safe", json: loopbackOnly)
        #expect(shrunk.status == .ok, "\(shrunk.body)")
        let started = ContinuousClock.now
        #expect(await client.waitForClose(timeout: .seconds(5)), "the tunnel of a client no longer greenlisted stayed open")
        #expect(ContinuousClock.now - started < .seconds(3))
        // The same request now is refused for the address, as the re-check decided.
        let refused = try await sam.request(harness.url("/echo"), headers: [("X-Forwarded-For", "198.51.100.20")], accept: "application/json")
        #expect(refused.status == .forbidden)
        #expect(refused.headers.first(name: "x-portcullis-reason") == "ip_not_greenlisted")
    }
}
}
