import Logging
import NIOCore
import PortcullisCore

/// The data path assembled from a configuration: TLS contexts, the runtime snapshot and the
/// listener. Reloading applies a new configuration to the same listener.
package final class Gateway: Sendable {
    package let runtime: GatewayRuntime
    package let server: GatewayServer
    package let tls: TLSContextStore
    private let geoIP: any GeoIPResolver
    private let storedNetwork: @Sendable () -> StoredNetworkPolicy.Value

    /// Loads certificates and builds everything (blocking file I/O: call it off an event loop).
    package init(
        configuration: GatewayConfiguration,
        geoIP: any GeoIPResolver,
        authenticator: (any RequestAuthenticator)?,
        metrics: GatewayMetrics,
        accessLog: AccessLog,
        logger: Logger,
        group: any EventLoopGroup,
        storedNetwork: @escaping @Sendable () -> StoredNetworkPolicy.Value = { StoredNetworkPolicy.Value() }
    ) throws {
        self.geoIP = geoIP
        self.storedNetwork = storedNetwork
        tls = try TLSContextStore(configuration: configuration.server.tls)
        let snapshot = try Self.makeSnapshot(configuration, geoIP: geoIP, stored: storedNetwork())
        runtime = GatewayRuntime(
            snapshot: snapshot, authenticator: authenticator, metrics: metrics, accessLog: accessLog, logger: logger
        )
        server = GatewayServer(runtime: runtime, tls: tls, group: group, listen: configuration.server.listen)
    }

    static func makeSnapshot(
        _ configuration: GatewayConfiguration,
        geoIP: any GeoIPResolver,
        stored: StoredNetworkPolicy.Value
    ) throws -> GatewaySnapshot {
        GatewaySnapshot(
            configuration: configuration,
            policy: configuration.accessPolicy(geoIP: geoIP, extraGreenlists: stored.greenlists, storedTenantGreenlist: stored.tenantGreenlist),
            upstreamTLS: try GatewaySnapshot.makeUpstreamTLS(for: configuration.routes)
        )
    }

    /// Applies a reloaded configuration: routes, greenlists, limits and certificates. The
    /// listen address cannot change without a restart; that is logged.
    package func apply(_ configuration: GatewayConfiguration, logger: Logger) throws {
        let old = runtime.snapshot.configuration
        if old.server.listen != configuration.server.listen || old.server.internalListen != configuration.server.internalListen {
            logger.warning("listen addresses changed; restart to apply them", metadata: [
                "listen": "\(configuration.server.listen)", "internal_listen": "\(configuration.server.internalListen)",
            ])
        }
        let snapshot = try Self.makeSnapshot(configuration, geoIP: geoIP, stored: storedNetwork())
        guard tls.reload(configuration: configuration.server.tls, logger: logger) else {
            throw ServerCertificate.LoadError(file: "server.tls", reason: "certificates failed to load; configuration not applied")
        }
        runtime.replace(snapshot: snapshot)
    }

    /// Rebuilds the policy from the current configuration (after store-managed greenlists change).
    package func refreshPolicy() throws {
        let configuration = runtime.snapshot.configuration
        runtime.replace(snapshot: try Self.makeSnapshot(configuration, geoIP: geoIP, stored: storedNetwork()))
    }
}
