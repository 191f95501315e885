import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PortcullisConfigFile
import PortcullisCore
import PortcullisGeoIP
import PortcullisServer
import PortcullisStore
import Prometheus
import ServiceLifecycle
import PortcullisDataPath
import PortcullisControlPlane
import PortcullisDevelopment

/// Wires a configuration into running services: the data path, the control plane, the
/// internal listener and the reloader, in one service group until SIGTERM or SIGINT.
struct Launcher {
    let configuration: GatewayConfiguration
    let configPath: String
    let logger: Logger
    let assembly: GatewayAssembly
    let registry: PrometheusCollectorRegistry
    let readiness = Readiness()
    let geoIP: MaxMindGeoIPResolver
    let cachedGeoIP: CachedGeoIPResolver
    let opened: OpenedStore

    /// Only `main` bootstraps the logging and metrics systems, once.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, sink: .standardOutput, level: level)
        }
    }

    struct StartupError: Error, CustomStringConvertible {
        let description: String
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
        cachedGeoIP = CachedGeoIPResolver(resolver)

        let opened: OpenedStore
        do {
            opened = try await StoreOpener.open(configuration, logger: logger)
        } catch {
            throw StartupError(description: "\(error)")
        }
        self.opened = opened
        let store = opened.store
        logger.info("store opened", metadata: ["kind": "\(opened.kind)"])
        var secret: String?
        if let oidc = configuration.identity.oidc {
            do {
                secret = try SecretReader.read(oidc.clientSecret)
            } catch {
                throw StartupError(description: "identity.oidc client secret: \(error)")
            }
        }
        var scimToken: String?
        if let scim = configuration.identity.scim {
            do {
                scimToken = try SecretReader.read(scim.token)
            } catch {
                throw StartupError(description: "identity.scim token: \(error)")
            }
        }
        var refreshTokenKey: String?
        if let key = configuration.identity.oidc?.refreshTokenKey {
            do {
                refreshTokenKey = try SecretReader.read(key)
            } catch {
                throw StartupError(description: "identity.oidc refresh token key: \(error)")
            }
        }
        readiness.register("listener", waitingFor: "the TLS listener is not bound yet")
        assembly = try await GatewayAssembly(
            configuration: configuration,
            dependencies: .init(
                store: store, changeFeed: opened.changeFeed, geoIP: cachedGeoIP, clientSecret: secret, scimToken: scimToken,
                refreshTokenKey: refreshTokenKey,
                metricsFactory: MetricsSystem.factory,
                accessLog: AccessLog(sink: .standardOutput, enabled: Logger(label: "portcullis.access").logLevel <= .info),
                logger: logger, group: MultiThreadedEventLoopGroup.singleton
            )
        )
    }

    func run(extraServices: [any Service] = []) async throws {
        let gateway = assembly.gateway
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
        let readinessWatcher = ReadinessWatcher(gateway: gateway, changes: assembly.changeWatcher, readiness: readiness, logger: logger)
        let services: [any Service] = [gateway.server, assembly.makeControlPlane(), internalServer, reloader, readinessWatcher]
            + assembly.backgroundServices + extraServices
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // Resources are released however the group ends (a listener that cannot bind, too).
        do {
            try await group.run()
        } catch {
            await assembly.shutdown()
            await opened.close()
            BufferedLogSink.standardOutput.drain()
            throw error
        }
        await assembly.shutdown()
        await opened.close()
        BufferedLogSink.standardOutput.drain()
    }
}

/// Marks the listener ready once it is bound (and says where it listens), and the store ready
/// while the change watcher reaches it.
struct ReadinessWatcher: Service {
    let gateway: Gateway
    let changes: ChangeWatcher
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        let address = try await gateway.server.boundAddress()
        readiness.markReady("listener")
        logger.info("ready", metadata: ["address": "\(address)"])
        while !Task.isCancelled {
            if changes.isStoreReachable {
                readiness.markReady("store")
            } else {
                readiness.markNotReady("store", reason: "the store cannot be reached")
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return
            }
        }
    }
}
