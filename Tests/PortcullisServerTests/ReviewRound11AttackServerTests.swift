import Crypto
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 11 (16b8f14): the round-10 tunnel, with bytes the
/// client sends before the splice.
@Suite("Review round 11: bytes sent with a WebSocket upgrade")
struct ReviewRound11AttackServerTests {
    /// HELD: an HTTP request pipelined in the same write as the upgrade request (so held in
    /// the gateway's HTTP decoder, or already parsed and queued, when the tunnel is spliced)
    /// never reaches an app that answered the handshake while still reading HTTP. Also when
    /// the upgrade's `Connection` header ends in a tab (`Upgrade\t`), which the gateway reads
    /// as an upgrade but llhttp does not (its `Connection` token ends only at a space, comma
    /// or line end), so the decoder goes on parsing the pipelined request: it is queued by the
    /// state machine and dropped with it at the splice. Both the decoder's left-over bytes
    /// (`configureHTTPServerPipeline` without an upgrader drops them) and the queued parts die
    /// with the HTTP handlers.
    @Test("held: a request pipelined with the upgrade never reaches the app", .timeLimit(.minutes(1)),
          arguments: ["Upgrade", "Upgrade\t", "keep-alive, Upgrade"])
    func pipelinedWithUpgrade(_ connection: String) async throws {
        let app = try await HandshakeThenHTTPUpstream.start()
        defer { Task { await app.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: admin, path: /admin, upstream: "http://127.0.0.1:\(app.port)", require: public, greenlist: office }
              - { name: app, path: /, upstream: "http://127.0.0.1:\(app.port)", require: public }
            """, extra: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]")
        defer { Task { await gateway.stop() } }

        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let smuggled = "GET /admin/secrets HTTP/1.1\r\nHost: localhost\r\nX-Portcullis-User: u-admin\r\n\r\n"
        try await client.send(
            "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: \(connection)\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n" + smuggled + smuggled
        )
        let handshake = await client.wait(timeout: .seconds(3)) { $0.contains("\r\n\r\n") }
        #expect(handshake.hasPrefix("HTTP/1.1 101"), "no tunnel opened: \(handshake.prefix(200))")
        try await Task.sleep(for: .milliseconds(500))
        // And once more after the 101, as a (masked-looking) frame would not be.
        try await client.send(smuggled)
        try await Task.sleep(for: .milliseconds(500))
        let reached = app.requestLines.filter { $0.contains("/admin/secrets") }
        #expect(reached.isEmpty, "the app received \(reached) (client saw: \(client.text.prefix(300)))")
        #expect(app.requestLines.contains { $0.hasPrefix("GET /ws") }, "the upgrade itself did not reach the app: \(app.requestLines)")
    }
}
}

/// An app that answers a WebSocket handshake correctly (the accept of the request's own key)
/// and then goes on reading HTTP requests on the connection, recording each request line: the
/// round-10 echo, without the echo.
private final class HandshakeThenHTTPUpstream: Sendable {
    let channel: any Channel
    let port: Int
    let lines = Mutex<[String]>([])

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> HandshakeThenHTTPUpstream {
        let box = Mutex<HandshakeThenHTTPUpstream?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let upstream = box.withLock({ $0 }) else { return }
                    try channel.pipeline.syncOperations.addHandler(HandshakeThenHTTPHandler(upstream: upstream))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let upstream = HandshakeThenHTTPUpstream(channel: channel)
        box.withLock { $0 = upstream }
        return upstream
    }

    var requestLines: [String] { lines.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }
}

private final class HandshakeThenHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: HandshakeThenHTTPUpstream
    private var pending: [UInt8] = []

    init(upstream: HandshakeThenHTTPUpstream) {
        self.upstream = upstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while let range = pending.firstRange(of: end) {
            let head = String(decoding: pending[..<range.lowerBound], as: UTF8.self)
            pending.removeSubrange(..<range.upperBound)
            let lines = head.split(separator: "\r\n")
            upstream.lines.withLock { $0.append(lines.first.map(String.init) ?? "") }
            var key: String?
            for line in lines.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0].lowercased() == "sec-websocket-key" { key = parts[1] }
            }
            let response: String
            if let key {
                let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
                response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
            } else {
                response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"
            }
            context.write(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
        }
        context.flush()
    }
}
