import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisConfigFile
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Prometheus
import ServiceLifecycle
import Testing
import X509
import PortcullisDataPath
import PortcullisDevelopment

extension ServerTests {
@Suite("Operations")
struct OperationsTests {
    @Test("the internal listener answers /healthz, /readyz and /metrics")
    func internalListener() async throws {
        let readiness = Readiness()
        readiness.register("listener", waitingFor: "not bound yet")
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "portcullis", metricName: "test", unitName: "total", helpText: "a test counter"))
        counter.increment()
        let bound = AsyncStream<Int>.makeStream()
        let app = InternalServer.makeApplication(
            host: "127.0.0.1", port: 0, readiness: readiness, registry: registry, logger: LogRecorder().logger(),
            onRunning: { address in bound.continuation.yield(address?.port ?? 0) }
        )
        let group = ServiceGroup(services: [app], logger: LogRecorder().logger())
        let task = Task { try await group.run() }
        var iterator = bound.stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        func get(_ path: String) async throws -> (HTTPResponseStatus, String) {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
            return (response.status, String(buffer: try await response.body.collect(upTo: 1_048_576)))
        }
        #expect(try await get("/healthz") == (.ok, "ok\n"))
        let notReady = try await get("/readyz")
        #expect(notReady.0 == .serviceUnavailable)
        #expect(notReady.1.contains("not bound yet"))
        readiness.markReady("listener")
        #expect(try await get("/readyz").0 == .ok)
        let metrics = try await get("/metrics")
        #expect(metrics.1.contains("portcullis_test_total 1"))
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test("SIGHUP's reload applies a new configuration; a bad one keeps the old and logs why")
    func reload() async throws {
        let gateway = try await TestGateway.start(routes: """
              - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
            """)
        defer { Task { await gateway.stop() } }
        let logs = LogRecorder()
        let reloader = ConfigurationReloader(
            load: { ConfigurationFile.load(path: gateway.configurationPath, environment: .system) },
            apply: { try gateway.gateway.apply($0, logger: logs.logger()) },
            tls: gateway.gateway.tls,
            logger: logs.logger()
        )
        #expect(try await gateway.fetch("/echo").0.status == .ok)

        // A new route table: / now refuses everyone outside an office list.
        var text = try String(contentsOfFile: gateway.configurationPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "routes:", with: """
        network:
          greenlists:
            office: [{ cidr: 198.51.100.0/24, label: office }]
          tenant_greenlist: office
        routes:
        """)
        try gateway.certificates.write(text, "portcullis.yaml")
        reloader.reloadNow()
        let (refused, body) = try await gateway.fetch("/echo")
        #expect(refused.status == .forbidden)
        #expect(String(buffer: body).contains("ip_not_greenlisted"))

        // A broken file: refused, the running configuration stays.
        try gateway.certificates.write(text.replacingOccurrences(of: "198.51.100.0/24", with: "198.51.100.0/33"), "portcullis.yaml")
        reloader.reloadNow()
        #expect(logs.all.contains { $0.message.contains("reload refused") && ($0.metadata["problems"] ?? "").contains("198.51.100.0/33") })
        #expect(try await gateway.fetch("/echo").0.status == .forbidden)
    }

    @Test("https upstreams are verified against the route's CA file")
    func httpsUpstream() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let upstreamFiles = try certificates.issue("upstream", dnsNames: ["localhost"], ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1)])
        let upstream = try await TLSTestUpstream.start(files: upstreamFiles)
        defer { Task { try? await upstream.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: secure, path: /, upstream: "https://127.0.0.1:\(upstream.port)", require: public, upstream_ca_file: "\(certificates.caFile)" }
              - { name: untrusted, path: /untrusted, upstream: "https://127.0.0.1:\(upstream.port)", require: public }
            """)
        defer { Task { await gateway.stop() } }
        let (response, body) = try await gateway.fetch("/hello")
        #expect(response.status == .ok)
        #expect(String(buffer: body) == "secure upstream saw /hello")
        // Without the CA the upstream's certificate is not trusted: 502, never a silent pass.
        let (untrusted, reason) = try await gateway.fetch("/untrusted")
        #expect(untrusted.status == .badGateway)
        #expect(String(buffer: reason).contains("upstream_unavailable"))
    }

    @Test("PROXY protocol v2 from a trusted load balancer gives the client address")
    func proxyProtocol() async throws {
        let gateway = try await TestGateway.start(serverExtra: """
              proxy_protocol: true
              trusted_proxies: [127.0.0.1/32]
            """)
        defer { Task { await gateway.stop() } }
        // A raw TCP connection: PROXY v2 header for 198.51.100.7 → 127.0.0.1, then TLS.
        let proxyHeader: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C]
            + [198, 51, 100, 7, 127, 0, 0, 1, 0x30, 0x39, 0x20, 0xFB]
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = try gateway.certificates.trustRoots()
        let context = try NIOSSLContext(configuration: tls)
        let collected = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ProxyHeaderWriter(header: proxyHeader))
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(ByteCollector(into: collected))
                }
            }
            .connect(host: "127.0.0.1", port: gateway.port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        var text = ""
        for _ in 0..<200 {
            text = String(decoding: collected.withLockedValue { $0 }, as: UTF8.self)
            if text.contains("bodySHA256") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(text.contains("\"X-Real-IP\",\"198.51.100.7\""))
        try? await channel.close()
    }

    @Test("certs dev writes a CA and a server certificate for localhost, 127.0.0.1 and ::1")
    func developmentCertificates() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let paths = try DevelopmentCertificateFiles.write(to: folder)
        let server = try ServerCertificate.load(CertificateFiles(certificateFile: paths.serverCertificate, keyFile: paths.serverKey))
        #expect(server.serves("localhost"))
        #expect(server.serves("127.0.0.1"))
        #expect(server.serves("::1"))
        #expect(!server.serves("example.com"))
        #expect(server.chain.count == 2)
        let keyPermissions = try FileManager.default.attributesOfItem(atPath: paths.serverKey)[.posixPermissions] as? NSNumber
        #expect(keyPermissions?.intValue == 0o600)
        // The development IdP's client secret is made here too, owner-only (git keeps no modes).
        let secretPermissions = try FileManager.default.attributesOfItem(atPath: paths.clientSecret)[.posixPermissions] as? NSNumber
        #expect(secretPermissions?.intValue == 0o600)
        #expect(try String(contentsOfFile: paths.clientSecret, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).count >= 43)
        // Certificates made before the secret existed keep their CA: only the secret is added.
        try FileManager.default.removeItem(atPath: paths.clientSecret)
        let authority = try String(contentsOfFile: paths.caCertificate, encoding: .utf8)
        try DevelopmentCertificateFiles.write(to: folder)
        #expect(FileManager.default.fileExists(atPath: paths.clientSecret))
        #expect(try String(contentsOfFile: paths.caCertificate, encoding: .utf8) == authority)
        // Run again: existing files are kept unless asked.
        let before = try String(contentsOfFile: paths.serverCertificate, encoding: .utf8)
        try DevelopmentCertificateFiles.write(to: folder)
        #expect(try String(contentsOfFile: paths.serverCertificate, encoding: .utf8) == before)
        try DevelopmentCertificateFiles.write(to: folder, overwrite: true)
        #expect(try String(contentsOfFile: paths.serverCertificate, encoding: .utf8) != before)
    }
}
}

/// Writes the PROXY header before anything else (before the TLS handshake).
private final class ProxyHeaderWriter: ChannelOutboundHandler, ChannelInboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias InboundIn = ByteBuffer
    private let header: [UInt8]

    init(header: [UInt8]) {
        self.header = header
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: header)), promise: nil)
        context.fireChannelActive()
    }
}

private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let into: NIOLockedValueBox<[UInt8]>

    init(into: NIOLockedValueBox<[UInt8]>) {
        self.into = into
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        into.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
    }
}

/// An HTTPS upstream answering "secure upstream saw <path>".
final class TLSTestUpstream: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func start(files: CertificateFiles) async throws -> TLSTestUpstream {
        let certificate = try ServerCertificate.load(files)
        let configuration = NIOSSL.TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) }, privateKey: .privateKey(certificate.privateKey)
        )
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(PathEcho())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TLSTestUpstream(channel: channel)
    }

    func close() async throws {
        try await channel.close()
    }
}

private final class PathEcho: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let body = "secure upstream saw \(head.uri)"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
