import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 9 (8b216ba): requests that reach a protected path of
/// the app, through the gateway, decided under a weaker route.
@Suite("Review round 9: a protected path reached through the gateway")
struct ReviewRound9AttackServerTests {
    /// A status-relaying endpoint: `/status?code=101` answers a bare 101 (nothing of RFC 6455),
    /// anything else 200 with a body.
    @Sendable static func statusRelay(_ head: String) -> String {
        head.hasPrefix("GET /status?code=101")
            ? "HTTP/1.1 101 Switching Protocols\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"
    }

    /// FINDING (MEDIUM): WebSocket smuggling through an upstream's 101 that is not a WebSocket
    /// handshake.
    ///
    /// The gateway opens a raw two-way tunnel as soon as the upstream answers a WebSocket
    /// upgrade with status 101, whatever else that response says: it neither checks that the
    /// upstream said `Upgrade: websocket` nor that its `Sec-WebSocket-Accept` is the one the
    /// client's `Sec-WebSocket-Key` calls for (RFC 6455 §4.1), and it writes `Connection:
    /// Upgrade` and `Upgrade: websocket` to the client itself. An app that lets a caller choose
    /// a response's status on a public path (a status or health endpoint that relays another
    /// service's status, a mock or "httpbin"-style page, a redirect checker: the 0ang3el
    /// "websocket smuggling" class, which hit Varnish, Envoy and others) answers 101 while its
    /// HTTP server still reads HTTP on that connection. From then on the client writes raw HTTP
    /// requests straight to the app, on a connection the gateway decided once, anonymously,
    /// under the public route: any path (`/admin/…`), any method, and any header, including a
    /// forged `X-Portcullis-User`/`-Role` (the gateway strips those only from requests it
    /// parses). Only an app that verifies `X-Portcullis-Assertion` on every request is safe.
    ///
    /// Safe behaviour asserted: a 101 without a valid WebSocket handshake answer is not
    /// tunnelled (502 `upstream_protocol_error`, as for an unasked 101), so the app never
    /// receives the smuggled `GET /admin/secrets`.
    @Test("a 101 that is not a WebSocket handshake answer does not open a tunnel to the app", .timeLimit(.minutes(1)))
    func fakeSwitchingProtocolsSmugglesRequests() async throws {
        let app = try await HTTPOnlyUpstream.start(answer: Self.statusRelay)
        defer { Task { await app.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: admin, path: /admin, upstream: "http://127.0.0.1:\(app.port)", require: public, greenlist: office }
              - { name: app, path: /, upstream: "http://127.0.0.1:\(app.port)", require: public }
            """, extra: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]")
        defer { Task { await gateway.stop() } }

        // The protected route is protected (here by an office greenlist the test client is
        // outside of; a role or a sign-in requirement is the same): the request never reaches the app.
        let (direct, _) = try await gateway.fetch("/admin/secrets", headers: [("Accept", "application/json")], http1: true)
        #expect(direct.status == .forbidden)
        #expect(!app.requestLines.contains { $0.contains("/admin/") })

        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await client.send(
            "GET /status?code=101 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        let before = client.text.count
        if handshake.hasPrefix("HTTP/1.1 101") {
            // The tunnel is open: an HTTP request of the client's own, straight to the app.
            try await client.send(
                "GET /admin/secrets HTTP/1.1\r\nHost: localhost\r\nX-Portcullis-User: u-admin\r\nX-Portcullis-Role: super_admin\r\n\r\n"
            )
            _ = await client.wait(timeout: .seconds(3)) { $0.count > before && $0.dropFirst(before).contains("\r\n\r\n") }
        }
        let smuggled = app.requestLines.filter { $0.contains("/admin/secrets") }
        #expect(smuggled.isEmpty, "the app received \(smuggled) on a connection decided as the public GET /status?code=101 (client saw: \(client.text.prefix(300)))")
        #expect(!handshake.hasPrefix("HTTP/1.1 101"), "the gateway relayed a 101 without Sec-WebSocket-Accept: \(handshake)")
        #expect(!app.forgedIdentitySeen, "the app received a client's own X-Portcullis-User")
    }

    /// HELD (control): the same endpoint asked for 101 without an upgrade request is refused as
    /// an unasked protocol switch (502), so nothing is tunnelled.
    @Test("held: a 101 to a request that did not ask to upgrade is a 502", .timeLimit(.minutes(1)))
    func unaskedSwitchHeld() async throws {
        let app = try await HTTPOnlyUpstream.start(answer: Self.statusRelay)
        defer { Task { await app.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: app, path: /, upstream: "http://127.0.0.1:\(app.port)", require: public }
            """)
        defer { Task { await gateway.stop() } }
        let (response, _) = try await gateway.fetch("/status?code=101", headers: [("Accept", "application/json")], http1: true)
        #expect(response.status == .badGateway)
    }
}
}
