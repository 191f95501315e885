import NIOCore
import NIOPosix
import PortcullisDataPathTesting
import Synchronization

/// A real HTTP/1.1 upstream on loopback that records every byte each connection received and
/// splits them into requests with ``UpstreamRequestParser`` (a strict parser of the tests' own,
/// not the gateway's llhttp). It answers each complete request with `200 OK` and a 2-byte body,
/// and closes a connection whose bytes are not valid requests.
final class RecordingUpstream: Sendable {
    let channel: any Channel
    let port: Int
    private let connections = Mutex<[Int: [UInt8]]>([:])
    private let nextID = Atomic<Int>(0)

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> RecordingUpstream {
        let box = Mutex<RecordingUpstream?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let upstream = box.withLock({ $0 }) else { return }
                    let id = upstream.nextID.wrappingAdd(1, ordering: .relaxed).newValue
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(upstream: upstream, id: id))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let upstream = RecordingUpstream(channel: channel)
        box.withLock { $0 = upstream }
        return upstream
    }

    /// What every connection received so far, parsed.
    var parsed: [UpstreamRequestParser.Result] {
        connections.withLock { $0 }.sorted { $0.key < $1.key }.map { UpstreamRequestParser.parse($0.value) }
    }

    func reset() {
        connections.withLock { $0.removeAll() }
    }

    fileprivate func received(_ bytes: ByteBuffer, on id: Int) -> UpstreamRequestParser.Result {
        connections.withLock { all in
            all[id, default: []].append(contentsOf: bytes.readableBytesView)
            return UpstreamRequestParser.parse(all[id] ?? [])
        }
    }

    func close() async {
        try? await channel.close()
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: RecordingUpstream
    private let id: Int
    private var answered = 0

    init(upstream: RecordingUpstream, id: Int) {
        self.upstream = upstream
        self.id = id
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let parsed = upstream.received(unwrapInboundIn(data), on: id)
        while answered < parsed.requests.count {
            let request = parsed.requests[answered]
            answered += 1
            let body = request.method == "HEAD" ? "" : "ok"
            context.write(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\(body)")), promise: nil)
        }
        context.flush()
        if !parsed.violations.isEmpty { context.close(promise: nil) }
    }
}
