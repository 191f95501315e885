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
        let app = try await StatusReflectingUpstream.start()
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
        let app = try await StatusReflectingUpstream.start()
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

/// An app on loopback whose `/status?code=N` answers with status N (as a status-relaying or
/// mock endpoint does) and every other request with 200; it goes on reading HTTP requests on
/// the same connection after any answer, a 101 included, as an HTTP server that did not really
/// switch protocols does. Records each request line it reads and whether a request carried an
/// `X-Portcullis-User` that is the test's forgery.
private final class StatusReflectingUpstream: Sendable {
    let channel: any Channel
    let port: Int
    let lines = Mutex<[String]>([])
    let forged = Mutex<Bool>(false)

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> StatusReflectingUpstream {
        let box = Mutex<StatusReflectingUpstream?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let upstream = box.withLock({ $0 }) else { return }
                    try channel.pipeline.syncOperations.addHandler(StatusReflectingHandler(upstream: upstream))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let upstream = StatusReflectingUpstream(channel: channel)
        box.withLock { $0 = upstream }
        return upstream
    }

    var requestLines: [String] { lines.withLock { $0 } }
    var forgedIdentitySeen: Bool { forged.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }
}

private final class StatusReflectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: StatusReflectingUpstream
    private var pending: [UInt8] = []

    init(upstream: StatusReflectingUpstream) {
        self.upstream = upstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while let range = pending.firstRange(of: end) {
            let head = String(decoding: pending[..<range.lowerBound], as: UTF8.self)
            pending.removeSubrange(..<range.upperBound)
            let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
            upstream.lines.withLock { $0.append(requestLine) }
            if head.lowercased().contains("x-portcullis-user: u-admin") { upstream.forged.withLock { $0 = true } }
            if requestLine.contains("/status?code=101") {
                // What a status-relaying endpoint sends: the status, nothing of RFC 6455.
                context.write(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\n\r\n")), promise: nil)
            } else {
                context.write(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")), promise: nil)
            }
        }
        context.flush()
    }
}
