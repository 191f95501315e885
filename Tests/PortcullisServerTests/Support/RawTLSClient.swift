import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A TLS connection that sends raw bytes and collects raw bytes: for hostile clients
/// (slowloris, spoofed headers, pipelining) and for handshake checks (versions, SNI).
final class RawTLSClient: Sendable {
    let channel: any Channel
    private let collector: Collector

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])
        let closed = Mutex<Bool>(false)
        let peerCertificate = Mutex<NIOSSLCertificate?>(nil)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLock { $0 = true }
            context.fireChannelInactive()
        }

    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects and completes the TLS handshake.
    static func connect(
        port: Int,
        serverName: String? = "localhost",
        trustRoots: NIOSSLTrustRoots,
        minimumVersion: NIOSSL.TLSVersion = .tlsv12,
        maximumVersion: NIOSSL.TLSVersion? = nil,
        alpn: [String] = ["http/1.1"],
        from localAddress: String? = nil,
        receiveBuffer: Int? = nil
    ) async throws -> RawTLSClient {
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        tls.minimumTLSVersion = minimumVersion
        tls.maximumTLSVersion = maximumVersion
        tls.applicationProtocols = alpn
        if serverName == nil { tls.certificateVerification = .noHostnameVerification }
        let context = try NIOSSLContext(configuration: tls)
        let collector = Collector()
        let handshake = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel: any Channel
        do {
            var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            if let localAddress { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0)) }
            // A small receive buffer, set before connecting, keeps the window small: a client that
            // does not read then blocks the gateway after a few kilobytes, not megabytes.
            if let receiveBuffer { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer)) }
            channel = try await bootstrap
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake, collector: collector))
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
        } catch {
            handshake.fail(error)
            throw error
        }
        try await handshake.futureResult.get()
        return RawTLSClient(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Stops reading from the socket, like a client that leaves a response unread.
    func stopReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    var text: String { String(decoding: collector.received.withLock { $0 }, as: UTF8.self) }
    var bytes: [UInt8] { collector.received.withLock { $0 } }
    var isClosed: Bool { collector.closed.withLock { $0 } }
    var peerCertificate: NIOSSLCertificate? { collector.peerCertificate.withLock { $0 } }

    /// Waits until the collected text satisfies `condition`, or the connection closes, or time runs out.
    func wait(timeout: Duration = .seconds(10), until condition: (String) -> Bool) async -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = text
            if condition(current) || isClosed { return current }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return text
    }

    /// Waits until at least `count` bytes arrived.
    func waitForBytes(_ count: Int, timeout: Duration = .seconds(10)) async -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, bytes.count < count, !isClosed {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return bytes
    }

    func waitForClose(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isClosed
    }

    func close() async {
        try? await channel.close()
    }
}

private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let promise: EventLoopPromise<Void>
    private let collector: RawTLSClient.Collector

    init(promise: EventLoopPromise<Void>, collector: RawTLSClient.Collector) {
        self.promise = promise
        self.collector = collector
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            if let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self) {
                collector.peerCertificate.withLock { $0 = handler.peerCertificate }
            }
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
