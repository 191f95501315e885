import AsyncHTTPClient
import Foundation
import MetricsTestKit
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisConfigFile
import PortcullisCore
import PortcullisTestSupport
import ServiceLifecycle
import PortcullisDataPath

/// A gateway on a loopback port, in process, in front of a real ``TestUpstream``, with an
/// HTTPS client that trusts the test CA. Logs and metrics are recorded in memory.
final class TestGateway: Sendable {
    let certificates: TestCertificates
    let upstream: TestUpstream
    let gateway: Gateway
    let port: Int
    let logs: LogRecorder
    let metrics: TestMetrics
    let client: HTTPClient
    let http1Client: HTTPClient
    let configurationPath: String
    private let serviceGroup: ServiceGroup
    private let task: Task<Void, any Error>

    /// - Parameter yaml: the configuration after `server:`'s defaults; `{UPSTREAM}` is replaced
    ///   by the test upstream's URL. A `server:` block is provided unless `serverYAML` is given.
    static func start(
        routes: String = defaultRoutes,
        extra: String = "",
        serverExtra: String = "",
        shutdownGrace: String = "10s"
    ) async throws -> TestGateway {
        let certificates = try TestCertificates()
        try certificates.issue("server", dnsNames: ["localhost"], ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1)])
        let upstream = try await TestUpstream.start()
        let yaml = """
        server:
          listen: "127.0.0.1:0"
          public_url: "https://localhost:8443"
          internal_listen: "127.0.0.1:0"
          shutdown_grace: \(shutdownGrace)
          tls:
            certificates:
              - { cert_file: server.pem, key_file: server-key.pem }
        \(serverExtra)
        \(extra)
        routes:
        \(routes.replacingOccurrences(of: "{UPSTREAM}", with: "http://127.0.0.1:\(upstream.port)"))
        """
        let path = certificates.folder + "/portcullis.yaml"
        try certificates.write(yaml, "portcullis.yaml")
        let configuration = try ConfigurationFile.load(path: path, environment: .system).get()
        return try await TestGateway(certificates: certificates, upstream: upstream, configuration: configuration, path: path)
    }

    static let defaultRoutes = """
          - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
        """

    private init(certificates: TestCertificates, upstream: TestUpstream, configuration: GatewayConfiguration, path: String) async throws {
        self.certificates = certificates
        self.upstream = upstream
        self.configurationPath = path
        let logs = LogRecorder()
        let metrics = TestMetrics()
        self.logs = logs
        self.metrics = metrics
        let gateway = try Gateway(
            configuration: configuration,
            geoIP: StaticGeoIPResolver.documentationRanges,
            authenticator: nil,
            metrics: GatewayMetrics(factory: metrics),
            accessLog: AccessLog(logger: logs.logger("portcullis.access")),
            logger: logs.logger("portcullis"),
            group: MultiThreadedEventLoopGroup.singleton
        )
        self.gateway = gateway
        let group = ServiceGroup(services: [gateway.server], logger: logs.logger("services"))
        serviceGroup = group
        task = Task { try await group.run() }
        let address = try await gateway.server.boundAddress()
        port = address.port ?? 0
        client = try Self.makeClient(trusting: certificates, httpVersion: .automatic)
        http1Client = try Self.makeClient(trusting: certificates, httpVersion: .http1Only)
    }

    static func makeClient(trusting certificates: TestCertificates, httpVersion: HTTPClient.Configuration.HTTPVersion) throws -> HTTPClient {
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = try certificates.trustRoots()
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, decompression: .disabled)
        configuration.httpVersion = httpVersion
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func url(_ path: String) -> String {
        "https://127.0.0.1:\(port)\(path)"
    }

    /// Graceful shutdown, as SIGTERM does it.
    func triggerShutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    func stop() async {
        try? await client.shutdown()
        try? await http1Client.shutdown()
        await serviceGroup.triggerGracefulShutdown()
        _ = try? await task.value
        await upstream.close()
        certificates.remove()
    }

    var shutdownCompleted: Bool {
        get async {
            (try? await task.value) != nil
        }
    }

    func waitForShutdown() async throws {
        try await task.value
    }

    /// GET (or another method) and the whole body.
    func fetch(
        _ path: String,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = [],
        body: ByteBuffer? = nil,
        http1: Bool = false
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await (http1 ? http1Client : client).execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 64 * 1_048_576)
        return (response, collected)
    }

    func echo(_ path: String = "/echo", headers: [(String, String)] = [], http1: Bool = false) async throws -> TestUpstream.Echo {
        let (response, body) = try await fetch(path, headers: headers, http1: http1)
        guard response.status == .ok else {
            throw TestFailure("expected 200 from the echo upstream, got \(response.status): \(String(buffer: body))")
        }
        return try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(buffer: body))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
