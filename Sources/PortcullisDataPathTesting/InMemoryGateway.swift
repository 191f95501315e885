import Logging
import Metrics
import NIOCore
import NIOEmbedded
import PortcullisCore
import PortcullisDataPath
import PortcullisTestSupport

/// The data path without sockets or TLS: client connections are `EmbeddedChannel`s with the
/// same HTTP/1.1 pipeline as a real connection after TLS (NIO's llhttp decoder, the proxy
/// handler), and upstream connections are ``InMemoryUpstreams``. Time is the embedded event
/// loop's, advanced by the test. For handler tests, the differential corpus and the fuzzer.
package final class InMemoryGateway {
    package let loop = EmbeddedEventLoop()
    package let upstreams: InMemoryUpstreams
    package let runtime: GatewayRuntime
    package let logs = LogRecorder()

    /// A client connection: bytes in, bytes out.
    package final class Client {
        package let channel: EmbeddedChannel
        package private(set) var received: [UInt8] = []

        init(channel: EmbeddedChannel) {
            self.channel = channel
        }

        /// The client sends these bytes. Errors the pipeline raises are the handler's to answer.
        package func send(_ bytes: [UInt8]) {
            guard channel.isActive else { return }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            _ = try? channel.writeInbound(buffer)
        }

        package func send(_ text: String) {
            send(Array(text.utf8))
        }

        /// What the gateway has written back so far.
        package func collect() -> [UInt8] {
            while let data = try? channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = data { received.append(contentsOf: buffer.readableBytesView) }
            }
            return received
        }

        package var text: String { String(decoding: collect(), as: UTF8.self) }
        package var isActive: Bool { channel.isActive }
    }

    /// - Parameters:
    ///   - routes: YAML-free routes; the default is one public route to `http://127.0.0.1:8080`.
    ///   - limits: the server limits (timeouts, sizes).
    ///   - forwardAuth: where forward-auth questions name the original request.
    ///   - network: greenlists and the tenant greenlist.
    ///   - geoIP: where clients are, for country rules.
    ///   - accessLog: where access-log lines go; by default into ``logs``.
    ///   - authenticator: who requests are; `nil` makes every request anonymous.
    package init(
        routes: [Route] = [InMemoryGateway.publicRoute],
        limits: ServerLimits = .defaults,
        sessions: SessionConfiguration = SessionConfiguration(),
        trustedProxies: [IPRange] = [],
        forwardAuth: ForwardAuthConfiguration = ForwardAuthConfiguration(),
        network: NetworkConfiguration = NetworkConfiguration(),
        geoIP: any GeoIPResolver = NoGeoIPResolver(),
        authenticator: (any RequestAuthenticator)? = nil,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        accessLog: AccessLog? = nil
    ) {
        upstreams = InMemoryUpstreams(loop: loop)
        let configuration = GatewayConfiguration(
            file: "in-memory.yaml",
            server: ServerConfiguration(
                listen: ListenAddress(host: "127.0.0.1", port: 0),
                publicURL: PublicURL(host: HostName("localhost")!, port: 8443),
                tls: TLSSettings(certificates: []),
                trustedProxies: trustedProxies,
                limits: limits
            ),
            identity: IdentityConfiguration(),
            sessions: sessions,
            store: .sqlite(path: ":memory:"),
            geoIP: GeoIPConfiguration(),
            network: network,
            forwardAuth: forwardAuth,
            routes: routes
        )
        let snapshot = GatewaySnapshot(
            configuration: configuration, policy: configuration.accessPolicy(geoIP: geoIP), upstreamTLS: [:]
        )
        runtime = GatewayRuntime(
            snapshot: snapshot, authenticator: authenticator, metrics: GatewayMetrics(factory: metrics),
            accessLog: accessLog ?? AccessLog(logger: logs.logger("portcullis.access")), logger: logs.logger("portcullis", level: .warning)
        )
    }

    package static let publicRoute = Route(
        name: "app", prefix: [], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080)), requirement: .public
    )

    /// A new HTTP/1.1 client connection from `peer`.
    package func connect(from peer: IPAddress = IPAddress(ipv4: 192, 0, 2, 10)) throws -> Client {
        let channel = EmbeddedChannel(loop: loop)
        try GatewayServer.configureHTTP1(
            channel, runtime: runtime, info: ClientConnectionInfo(peer: peer, httpVersion: "1.1"), connector: upstreams
        )
        channel.connect(to: try SocketAddress(ipAddress: "192.0.2.10", port: 40_000), promise: nil)
        return Client(channel: channel)
    }

    /// A new HTTP/2 stream, as the multiplexer would create it: the stream codec and the proxy
    /// handler on an embedded channel that takes and gives HTTP/2 frame payloads.
    package func openStream(from peer: IPAddress = IPAddress(ipv4: 192, 0, 2, 10)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try GatewayServer.configureHTTP2Stream(
            channel, runtime: runtime, info: ClientConnectionInfo(peer: peer, httpVersion: "2"), connector: upstreams
        )
        channel.connect(to: try SocketAddress(ipAddress: "192.0.2.10", port: 40_001), promise: nil)
        return channel
    }

    /// Lets everything that is due run: pending tasks, and the upstreams' answers.
    package func settle(answering: Bool = true) {
        for _ in 0..<8 {
            loop.run()
            if answering { upstreams.answerCompleteRequests() }
        }
        loop.run()
    }

    package func advanceTime(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
        settle()
    }

    /// The access log, one entry per exchange.
    package var accessLog: [LogRecorder.Entry] {
        logs.all.filter { $0.label == "portcullis.access" && $0.message == "request" }
    }
}
