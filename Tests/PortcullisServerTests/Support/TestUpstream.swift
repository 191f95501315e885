import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A real HTTP/1.1 upstream on loopback for the proxy tests:
/// - `/echo…` (and anything else): JSON describing the request it received (method, URI,
///   headers, body size and SHA-256);
/// - `/download?bytes=N`: N bytes streamed with backpressure;
/// - `/slow?ms=N`: answers after N milliseconds;
/// - `/drip`: a chunked response that sends 256 bytes every 50 ms until the connection closes;
/// - `/hang`: never answers; `/close`: closes the connection without answering;
/// - `/set-cookies`: an empty 200 with every `Set-Cookie` of ``setCookies``;
/// - `/ws`: a WebSocket echo.
final class TestUpstream: Sendable {
    /// What `/set-cookies` sends: cookies of the gateway's own names, however spelled (each
    /// value says `planted`), between cookies of the app's own (each value says `kept`).
    static let setCookies = [
        "app_session=kept; Path=/; Secure; HttpOnly",
        "__Host-portcullis=planted; Path=/; Secure; HttpOnly; SameSite=Lax",
        "__host-portcullis=planted; Path=/; Secure",
        "__HOST-PORTCULLIS-LOGIN=planted; Path=/; Secure",
        "__Host-portcullis-login=planted; Path=/; Secure; HttpOnly",
        "   __Host-portcullis =planted; Path=/; Secure",
        "\t__Host-portcullis\t=planted; Path=/; Secure",
        "=__Host-portcullis=planted; Path=/; Secure",
        "= __Host-portcullis=planted; Path=/; Secure",
        "theme=dark,__Host-portcullis=planted; Path=/",
        "theme=dark, __Host-portcullis=planted; Path=/",
        "__Host-portcullis=; Path=/; Secure; HttpOnly; Max-Age=0",
        "__Host-app=kept; Path=/; Secure",
        "portcullis=kept; Path=/",
        "__Secure-portcullis=kept; Secure",
        "__Host-portcullis-other=kept; Path=/; Secure",
        "lang=en-kept; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
    ]

    struct Echo: Decodable {
        let method: String
        let uri: String
        let headers: [[String]]
        let bodyBytes: Int
        let bodySHA256: String

        func values(_ name: String) -> [String] {
            headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
        }

        var names: [String] { headers.map { $0[0] } }
    }

    let channel: any Channel
    let port: Int
    /// Requests received, for tests that look at what reached the upstream.
    let received = Mutex<[String]>([])
    let connections = Atomic<Int>(0)

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    static func start(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> TestUpstream {
        let box = Mutex<TestUpstream?>(nil)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upstream = box.withLock { $0 }
                upstream?.connections.wrappingAdd(1, ordering: .relaxed)
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            if let context = try? sync.context(handlerType: UpstreamRequestHandler.self) {
                                sync.removeHandler(context: context, promise: nil)
                            }
                            try sync.addHandler(WebSocketEchoHandler())
                        }
                    }
                )
                return channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                ).flatMap {
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UpstreamRequestHandler(upstream: upstream))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let upstream = TestUpstream(channel: channel)
        box.withLock { $0 = upstream }
        return upstream
    }

    func close() async {
        try? await channel.close()
    }

    /// A port nothing listens on.
    static func deadPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }
}

private final class UpstreamRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let upstream: TestUpstream?
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var hasher = SHA256()
    private var downloadRemaining = 0
    private var downloading = false
    private let chunk = ByteBuffer(repeating: UInt8(ascii: "d"), count: 65_536)

    init(upstream: TestUpstream?) {
        self.upstream = upstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            hasher = SHA256()
            upstream?.received.withLock { $0.append("\(head.method.rawValue) \(head.uri)") }
            if head.uri.hasPrefix("/close") {
                context.close(promise: nil)
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        case .end:
            guard let head else { return }
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        let query = head.uri.split(separator: "?").dropFirst().first.map(String.init) ?? ""
        let number = Int(query.split(separator: "=").last ?? "") ?? 0
        switch path {
        case "/hang":
            return
        case "/slow":
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(number))) {
                let (handler, context) = loopBound.value
                handler.sendEcho(head, context: context)
            }
        case "/download":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(number))
            headers.add(name: "Content-Type", value: "application/octet-stream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            downloadRemaining = number
            downloading = true
            pump(context: context)
        case "/drip":
            var headers = HTTPHeaders()
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            drip(context: context)
        case "/set-cookies":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            for cookie in TestUpstream.setCookies { headers.add(name: "Set-Cookie", value: cookie) }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case "/status":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            let status = HTTPResponseStatus(statusCode: number)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        default:
            sendEcho(head, context: context)
        }
    }

    private func sendEcho(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let object: [String: Any] = [
            "method": head.method.rawValue,
            "uri": head.uri,
            "headers": head.headers.map { [$0.name, $0.value] },
            "bodyBytes": bodyBytes,
            "bodySHA256": digest,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(data.count))
        headers.add(name: "Connection", value: "keep-alive")
        headers.add(name: "Keep-Alive", value: "timeout=30")
        headers.add(name: "X-Upstream", value: "test")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func drip(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(repeating: UInt8(ascii: "."), count: 256)))), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(50)) {
            let (handler, context) = loopBound.value
            handler.drip(context: context)
        }
    }

    private func pump(context: ChannelHandlerContext) {
        while downloading, downloadRemaining > 0, context.channel.isWritable {
            let size = min(downloadRemaining, chunk.readableBytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk.getSlice(at: 0, length: size) ?? chunk))), promise: nil)
            downloadRemaining -= size
        }
        if downloading, downloadRemaining == 0 {
            downloading = false
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if downloading, context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }
}

private final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let reply = WebSocketFrame(fin: true, opcode: frame.opcode, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        case .connectionClose:
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        default:
            break
        }
    }
}
