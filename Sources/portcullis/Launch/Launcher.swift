import Logging
import Metrics
import NIOCore
import NIOPosix
import PortcullisConfigFile
import PortcullisCore
import PortcullisGeoIP
import PortcullisServer
import Prometheus
import ServiceLifecycle

/// Wires a configuration into running services: the gateway listener, the internal listener
/// and the reloader, run in one service group until SIGTERM or SIGINT.
struct Launcher {
    let configuration: GatewayConfiguration
    let configPath: String
    let logger: Logger
    let gateway: Gateway
    let registry: PrometheusCollectorRegistry
    let readiness = Readiness()
    let geoIP: MaxMindGeoIPResolver
    let cachedGeoIP: CachedGeoIPResolver
    var extraServices: [any Service] = []

    /// Only `main` bootstraps the logging and metrics systems, once.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, sink: .standardOutput, level: level)
        }
    }

    init(configuration: GatewayConfiguration, configPath: String, logger: Logger) async throws {
        self.configuration = configuration
        self.configPath = configPath
        self.logger = logger
        registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let (resolver, notices) = try MaxMindGeoIPResolver.open(
            cityPath: configuration.geoIP.database, asnPath: configuration.geoIP.asnDatabase
        )
        for notice in notices {
            logger.notice("GeoIP database missing; locations will read unknown", metadata: ["reason": "\(notice.description)"])
        }
        if let city = resolver.cityDatabase {
            logger.info("GeoIP database loaded", metadata: ["path": "\(city.path)", "type": "\(city.databaseType)"])
        }
        geoIP = resolver
        let cachedGeoIP = CachedGeoIPResolver(resolver)
        self.cachedGeoIP = cachedGeoIP
        readiness.register("listener", waitingFor: "the TLS listener is not bound yet")
        gateway = try Gateway(
            configuration: configuration,
            geoIP: cachedGeoIP,
            authenticator: nil,
            metrics: GatewayMetrics(factory: MetricsSystem.factory),
            accessLog: AccessLog(sink: .standardOutput, enabled: Logger(label: "portcullis.access").logLevel <= .info),
            logger: logger,
            group: MultiThreadedEventLoopGroup.singleton
        )
    }

    func run() async throws {
        let gateway = self.gateway
        let readiness = self.readiness
        let logger = self.logger
        let path = configPath
        let geoIP = self.geoIP
        let cachedGeoIP = self.cachedGeoIP
        let internalServer = InternalServer.makeApplication(
            host: configuration.server.internalListen.host,
            port: configuration.server.internalListen.port,
            readiness: readiness,
            registry: registry,
            logger: Logger(label: "portcullis.internal")
        )
        let reloader = ConfigurationReloader(
            load: { ConfigurationFile.load(path: path, environment: .system) },
            apply: { configuration in
                try gateway.apply(configuration, logger: logger)
                if let database = configuration.geoIP.database {
                    let (reloaded, _) = try MaxMindGeoIPResolver.open(cityPath: database, asnPath: configuration.geoIP.asnDatabase)
                    geoIP.replace(city: reloaded.cityDatabase, asn: reloaded.asnDatabase)
                    cachedGeoIP.clear()
                }
            },
            tls: gateway.tls,
            logger: logger
        )
        let readinessWatcher = ReadinessWatcher(gateway: gateway, readiness: readiness, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: gateway.server),
                    .init(service: internalServer),
                    .init(service: reloader),
                    .init(service: readinessWatcher),
                ] + extraServices.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        BufferedLogSink.standardOutput.drain()
    }
}

/// Marks the listener ready once it is bound, and prints where it listens.
struct ReadinessWatcher: Service {
    let gateway: Gateway
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        let address = try await gateway.server.boundAddress()
        readiness.markReady("listener")
        logger.info("ready", metadata: ["address": "\(address)"])
        try? await gracefulShutdown()
    }
}
