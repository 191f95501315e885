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
import UnixSignals

/// Wires a configuration into running services: the data path, the control plane, the
/// internal listener and the reloader, in one service group until SIGTERM or SIGINT.
struct Launcher {
    /// Warns when a GeoIP database is older than ``GeoIPFreshness/staleAfter`` (at start-up and
    /// on each reload), and publishes each database's build time as
    /// `portcullis_geoip_database_build_timestamp_seconds{database="city"|"asn"}` for alerts.
    static func reportFreshness(of resolver: MaxMindGeoIPResolver, logger: Logger) {
        for (name, database) in [("city", resolver.cityDatabase), ("asn", resolver.asnDatabase)] {
            guard let database else { continue }
            Gauge(label: "portcullis_geoip_database_build_timestamp_seconds", dimensions: [("database", name)])
                .record(Double(database.buildEpoch))
            if let warning = GeoIPFreshness.warning(for: database, now: Date()) {
                logger.warning("\(warning)")
            }
        }
    }

    let configuration: GatewayConfiguration
    let configPath: String
    /// Reads the configuration again on SIGHUP.
    let reload: @Sendable () -> Result<GatewayConfiguration, ConfigurationError>
    let logger: Logger
    let assembly: GatewayAssembly
    let registry: PrometheusCollectorRegistry
    let readiness = Readiness()
    let geoIP: MaxMindGeoIPResolver
    let cachedGeoIP: CachedGeoIPResolver
    let opened: OpenedStore
    /// systemd's `NOTIFY_SOCKET` (`Type=notify`), when it set one.
    let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)

    /// Only `main` bootstraps the logging and metrics systems, once.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, sink: .standardOutput, level: level)
        }
    }

    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameter reload: how SIGHUP reads the configuration again; by default the file at
    ///   `configPath` (`dev` derives its file from the checkout's each time).
    init(
        configuration: GatewayConfiguration, configPath: String, logger: Logger,
        reload: (@Sendable () -> Result<GatewayConfiguration, ConfigurationError>)? = nil
    ) async throws {
        self.configuration = configuration
        self.configPath = configPath
        self.reload = reload ?? { ConfigurationFile.load(path: configPath, environment: .system) }
        self.logger = logger
        registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsSetup.factory(registry: registry))

        let (resolver, notices) = try MaxMindGeoIPResolver.open(
            cityPath: configuration.geoIP.database, asnPath: configuration.geoIP.asnDatabase
        )
        for notice in notices {
            logger.notice("GeoIP database missing; locations will read unknown", metadata: ["reason": "\(notice.description)"])
        }
        if let city = resolver.cityDatabase {
            logger.info("GeoIP database loaded", metadata: ["path": "\(city.path)", "type": "\(city.databaseType)"])
        }
        Self.reportFreshness(of: resolver, logger: logger)
        geoIP = resolver
        cachedGeoIP = CachedGeoIPResolver(resolver)

        let opened: OpenedStore
        do {
            opened = try await StoreOpener.open(configuration, logger: logger, observer: StoreOperationMetrics(factory: MetricsSystem.factory))
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
        var riskWebhookSecret: String?
        if let webhook = configuration.sessions.risk.webhook {
            do {
                riskWebhookSecret = try SecretReader.read(webhook.secret)
            } catch {
                throw StartupError(description: "sessions.risk.webhook secret: \(error)")
            }
        }
        readiness.register("listener", waitingFor: "the TLS listener is not bound yet")
        assembly = try await GatewayAssembly(
            configuration: configuration,
            dependencies: .init(
                store: store, changeFeed: opened.changeFeed, geoIP: cachedGeoIP, clientSecret: secret, scimToken: scimToken,
                refreshTokenKey: refreshTokenKey, riskWebhookSecret: riskWebhookSecret,
                metricsFactory: MetricsSystem.factory,
                accessLog: AccessLog(sink: .standardOutput, enabled: Logger(label: "portcullis.access").logLevel <= .info),
                logger: logger, group: MultiThreadedEventLoopGroup.singleton
            )
        )
    }

    func run(extraServices: [any Service] = []) async throws {
        let gateway = assembly.gateway
        let logger = self.logger
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
            load: reload,
            apply: { configuration in
                try gateway.apply(configuration, logger: logger)
                if let database = configuration.geoIP.database {
                    let (reloaded, _) = try MaxMindGeoIPResolver.open(cityPath: database, asnPath: configuration.geoIP.asnDatabase)
                    geoIP.replace(city: reloaded.cityDatabase, asn: reloaded.asnDatabase)
                    cachedGeoIP.clear()
                    Self.reportFreshness(of: geoIP, logger: logger)
                }
            },
            tls: gateway.tls,
            logger: logger,
            notifier: notifier
        )
        let readinessWatcher = ReadinessWatcher(
            gateway: gateway, changes: assembly.changeWatcher, readiness: readiness, notifier: notifier, logger: logger
        )
        // The readiness watcher is last so that it is the first told of a graceful shutdown
        // (services stop in reverse order) and systemd hears STOPPING=1 at once.
        let services: [any Service] = [gateway.server, assembly.makeControlPlane(), internalServer, reloader]
            + assembly.backgroundServices + extraServices + [readinessWatcher]
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
