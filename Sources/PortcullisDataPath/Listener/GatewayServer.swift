import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import PortcullisCore
import ServiceLifecycle
import Synchronization

/// The TLS listener and its connections: TLS 1.2/1.3, ALPN to HTTP/2 or HTTP/1.1, every
/// request through ``ProxyHandler``. A service: `run()` listens until graceful shutdown, then
/// stops accepting, lets in-flight requests finish up to the grace period and closes the rest.
package final class GatewayServer: Service, Sendable {
    private let runtime: GatewayRuntime
    private let tls: TLSContextStore
    private let group: any EventLoopGroup
    private let listen: ListenAddress
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>]
    private let bound: Mutex<BindState> = Mutex(BindState())
    private let children: Mutex<[ObjectIdentifier: any Channel]> = Mutex([:])

    private struct BindState {
        var address: SocketAddress?
        var waiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var failure: (any Error)?
    }

    package init(runtime: GatewayRuntime, tls: TLSContextStore, group: any EventLoopGroup, listen: ListenAddress) {
        self.runtime = runtime
        self.tls = tls
        self.group = group
        self.listen = listen
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(UpstreamPool(eventLoop: loop), eventLoop: loop)
        }
        self.pools = pools
    }

    /// The bound address, once listening (port 0 in the configuration picks a free port).
    package func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            bound.withLock { state in
                if let address = state.address {
                    continuation.resume(returning: address)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    package func run() async throws {
        let quiesce = ServerQuiescingHelper(group: group)
        let serverChannel: any Channel
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1_024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { [self] channel in
                    initializeConnection(channel)
                }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            publish(.failure(error))
            throw error
        }
        guard let address = serverChannel.localAddress else {
            publish(.failure(ChannelError.unknownLocalAddress))
            throw ChannelError.unknownLocalAddress
        }
        publish(.success(address))
        runtime.logger.info("listening", metadata: ["address": "\(address)", "tls": "1.2, 1.3", "alpn": "h2, http/1.1"])

        // Graceful shutdown: stop accepting, tell every connection to finish what it is doing
        // (HTTP/1 closes after the response in flight, HTTP/2 sends GOAWAY), and wait for them.
        let drained = group.next().makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await serverChannel.closeFuture.get()
            } onGracefulShutdown: { [runtime] in
                runtime.logger.info("draining connections", metadata: ["open": "\(runtime.metrics.currentConnections)"])
                quiesce.initiateShutdown(promise: drained)
            }
        } onCancel: {
            serverChannel.close(promise: nil)
            drained.succeed(())
        }
        let grace = runtime.snapshot.configuration.server.shutdownGrace
        let deadline = group.next().scheduleTask(in: TimeAmount(grace)) { [self] in
            let open = children.withLock { Array($0.values) }
            if !open.isEmpty {
                runtime.logger.warning("grace period over; closing connections", metadata: ["open": "\(open.count)"])
            }
            for channel in open { channel.close(promise: nil) }
        }
        try? await drained.futureResult.get()
        deadline.cancel()
        for loop in group.makeIterator() {
            if let pool = pools[ObjectIdentifier(loop)] {
                try? await loop.submit { pool.value.closeAll() }.get()
            }
        }
        runtime.logger.info("stopped")
    }

    private func publish(_ result: Result<SocketAddress, any Error>) {
        let waiters = bound.withLock { state -> [CheckedContinuation<SocketAddress, any Error>] in
            switch result {
            case .success(let address): state.address = address
            case .failure(let error): state.failure = error
            }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    // MARK: connections

    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Void> {
        let snapshot = runtime.snapshot
        let limits = snapshot.configuration.server.limits
        guard runtime.metrics.connectionOpened(limit: limits.maxConnections) else {
            runtime.logger.warning("connection limit reached; refusing a connection", metadata: ["limit": "\(limits.maxConnections)"])
            return channel.close()
        }
        let id = ObjectIdentifier(channel)
        children.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            runtime.metrics.connectionClosed()
            _ = children.withLock { $0.removeValue(forKey: id) }
        }
        guard let pool = pools[ObjectIdentifier(channel.eventLoop)]?.value else {
            return channel.close()
        }
        let peer = ClientConnectionInfo.address(of: channel.remoteAddress)
        let context = tls.context
        let shared = self.runtime
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            let info = ClientConnectionInfo(peer: peer, httpVersion: "1.1")
            if snapshot.configuration.server.proxyProtocol, snapshot.clientAddresses.isTrusted(peer) {
                try sync.addHandler(ByteToMessageHandler(ProxyProtocolV2Decoder(connection: info)))
            }
            try sync.addHandler(NIOSSLServerHandler(context: context))
            // After the TLS handler: it must see the handshake-completed event.
            try sync.addHandler(HandshakeTimeoutHandler(timeout: TimeAmount(limits.headerTimeout)))
            try sync.addHandler(WriteCoalescingHandler())
            try sync.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                switch result {
                case .negotiated("h2"):
                    return channel.eventLoop.makeCompletedFuture {
                        try Self.configureHTTP2(channel, runtime: shared, snapshot: snapshot, info: info, pool: pool)
                    }
                default:
                    return channel.eventLoop.makeCompletedFuture {
                        try Self.configureHTTP1(channel, runtime: shared, info: info, connector: pool)
                    }
                }
            })
        }
    }

    /// An HTTP/1.1 connection's pipeline after TLS: the byte observer (head deadline), NIO's
    /// decoder (llhttp) and encoder, and the proxy handler.
    package static func configureHTTP1(
        _ channel: any Channel,
        runtime: GatewayRuntime,
        info: ClientConnectionInfo,
        connector: any UpstreamConnector
    ) throws {
        let limits = runtime.snapshot.configuration.server.limits
        let sync = channel.pipeline.syncOperations
        let observer = InboundByteObserver()
        try sync.addHandler(observer)
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldCount = 200
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withServerUpgrade: nil,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
            withDecoderLimitConfiguration: decoderLimits
        )
        let proxy = ProxyHandler(
            runtime: runtime, connection: info, connector: connector,
            configuration: ProxyHandler.configuration(for: runtime.snapshot, isHTTP1: true), now: channel.eventLoop.now
        )
        observer.target = proxy
        try sync.addHandler(proxy)
    }

    static func configureHTTP2(
        _ channel: any Channel,
        runtime: GatewayRuntime,
        snapshot: GatewaySnapshot,
        info: ClientConnectionInfo,
        pool: UpstreamPool
    ) throws {
        let limits = snapshot.configuration.server.limits
        let h2Info = ClientConnectionInfo(peer: info.peer, httpVersion: "2")
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(
                maxIdleTime: TimeAmount(limits.idleTimeout),
                maxAge: nil,
                maxGraceTime: TimeAmount(snapshot.configuration.server.shutdownGrace),
                keepalive: nil
            )
        )
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 128),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderBytes),
            HTTP2Setting(parameter: .initialWindowSize, value: 262_144),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 262_144
        stream.outboundBufferSizeHighWatermark = 65_536
        stream.outboundBufferSizeLowWatermark = 16_384
        let sync = channel.pipeline.syncOperations
        // Streams live on their connection's event loop.
        let perConnection = NIOLoopBound((h2Info, pool), eventLoop: channel.eventLoop)
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: connection,
            streamConfiguration: stream,
            streamDelegate: management.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let (streamInfo, streamPool) = perConnection.value
                try configureHTTP2Stream(streamChannel, runtime: runtime, info: streamInfo, connector: streamPool)
            }
        }
        try sync.addHandler(management, position: .after(try sync.handler(type: NIOHTTP2Handler.self)))
    }

    /// One HTTP/2 stream's pipeline: the stream codec and the proxy handler.
    package static func configureHTTP2Stream(
        _ channel: any Channel,
        runtime: GatewayRuntime,
        info: ClientConnectionInfo,
        connector: any UpstreamConnector
    ) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(HTTP2StreamCodec())
        try sync.addHandler(ProxyHandler(
            runtime: runtime, connection: info, connector: connector,
            configuration: ProxyHandler.configuration(for: runtime.snapshot, isHTTP1: false), now: channel.eventLoop.now
        ))
    }
}
