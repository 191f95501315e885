import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// An app on loopback that answers each request head with `answer(head)` and goes on reading
/// HTTP requests on the same connection after any answer, a 101 included, as an HTTP server
/// that never really switches protocols does (a status relay, a mock, an echo server). Records
/// each request line it reads and whether a request carried the forged
/// `X-Portcullis-User: u-admin` the smuggling tests send.
final class HTTPOnlyUpstream: Sendable {
    let channel: any Channel
    let port: Int
    fileprivate let lines = Mutex<[String]>([])
    fileprivate let forged = Mutex<Bool>(false)
    fileprivate let answer: @Sendable (String) -> String

    private init(channel: any Channel, answer: @escaping @Sendable (String) -> String) {
        self.channel = channel
        self.answer = answer
        port = channel.localAddress?.port ?? 0
    }

    /// `answer` gets a request's head (request line and headers, without the blank line) and
    /// returns the whole response to write.
    static func start(answer: @escaping @Sendable (String) -> String) async throws -> HTTPOnlyUpstream {
        let box = Mutex<HTTPOnlyUpstream?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let upstream = box.withLock({ $0 }) else { return }
                    try channel.pipeline.syncOperations.addHandler(HTTPOnlyHandler(upstream: upstream))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let upstream = HTTPOnlyUpstream(channel: channel, answer: answer)
        box.withLock { $0 = upstream }
        return upstream
    }

    var requestLines: [String] { lines.withLock { $0 } }
    var forgedIdentitySeen: Bool { forged.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }
}

private final class HTTPOnlyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: HTTPOnlyUpstream
    private var pending: [UInt8] = []

    init(upstream: HTTPOnlyUpstream) {
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
            context.write(wrapOutboundOut(ByteBuffer(string: upstream.answer(head))), promise: nil)
        }
        context.flush()
    }
}
