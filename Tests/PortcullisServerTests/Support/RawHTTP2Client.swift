import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTP/2 client over TLS that sends hand-built frames: each stream gets exactly the HEADERS
/// and DATA frames a test lists, with the END_STREAM flags it chooses, and the client's own
/// header and content-length validation turned off, so it can send what a hostile client would.
final class RawHTTP2Client: Sendable {
    let channel: any Channel
    private let multiplexer: NIOLoopBound<NIOHTTP2Handler.StreamMultiplexer>

    enum Frame: Sendable {
        case headers([(String, String)], endStream: Bool)
        case data(String, endStream: Bool)
    }

    /// What one stream received.
    final class Stream: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTP2Frame.FramePayload
        let frames = Mutex<[String]>([])
        let headers = Mutex<[(String, String)]>([])
        let body = Mutex<String>("")
        let closed = Mutex<Bool>(false)
        let reset = Mutex<HTTP2ErrorCode?>(nil)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .headers(let block):
                frames.withLock { $0.append("HEADERS\(block.endStream ? " END_STREAM" : "")") }
                headers.withLock { all in all.append(contentsOf: block.headers.map { ($0.name, $0.value) }) }
            case .data(let payload):
                if case .byteBuffer(let buffer) = payload.data { body.withLock { $0 += String(buffer: buffer) } }
                frames.withLock { $0.append("DATA\(payload.endStream ? " END_STREAM" : "")") }
            case .rstStream(let code):
                reset.withLock { $0 = code }
                frames.withLock { $0.append("RST_STREAM \(code)") }
            default:
                break
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let streamError = error as? NIOHTTP2Errors.StreamClosed {
                reset.withLock { $0 = streamError.errorCode }
            }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLock { $0 = true }
            context.fireChannelInactive()
        }

        var status: String? { headers.withLock { $0.first { $0.0 == ":status" }?.1 } }

        /// Waits until the stream closed or was reset, or time runs out.
        func waitForEnd(timeout: Duration = .seconds(5)) async {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline, !closed.withLock({ $0 }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private init(channel: any Channel, multiplexer: NIOLoopBound<NIOHTTP2Handler.StreamMultiplexer>) {
        self.channel = channel
        self.multiplexer = multiplexer
    }

    static func connect(port: Int, trustRoots: NIOSSLTrustRoots) async throws -> RawHTTP2Client {
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        var unchecked = NIOHTTP2Handler.ConnectionConfiguration()
        unchecked.headerBlockValidation = .disabled
        unchecked.contentLengthValidation = .disabled
        let connection = unchecked
        let box = Mutex<NIOLoopBound<NIOHTTP2Handler.StreamMultiplexer>?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    let multiplexer = try sync.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connection, streamConfiguration: .init()
                    ) { stream in
                        stream.eventLoop.makeSucceededVoidFuture()
                    }
                    box.withLock { $0 = NIOLoopBound(multiplexer, eventLoop: channel.eventLoop) }
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        guard let multiplexer = box.withLock({ $0 }) else { throw TestFailure("no HTTP/2 multiplexer") }
        return RawHTTP2Client(channel: channel, multiplexer: multiplexer)
    }

    /// Opens a stream and sends `frames` on it as they are.
    func send(_ frames: [Frame]) async throws -> Stream {
        let collector = Stream()
        let multiplexer = self.multiplexer
        let stream = try await channel.eventLoop.flatSubmit {
            multiplexer.value.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(collector)
                }
            }
        }.get()
        for frame in frames {
            let payload: HTTP2Frame.FramePayload
            switch frame {
            case .headers(let fields, let endStream):
                payload = .headers(.init(headers: HPACKHeaders(fields), endStream: endStream))
            case .data(let text, let endStream):
                payload = .data(.init(data: .byteBuffer(ByteBuffer(string: text)), endStream: endStream))
            }
            try? await stream.writeAndFlush(payload)
        }
        return collector
    }

    func close() async {
        try? await channel.close()
    }
}
