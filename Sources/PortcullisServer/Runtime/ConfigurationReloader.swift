import UnixSignals
import Logging
import PortcullisCore
import ServiceLifecycle
import PortcullisDataPath

/// Reloads on SIGHUP: the configuration file (a bad one keeps the old configuration and logs
/// every problem), certificates and GeoIP. Also watches the certificate files and reloads them
/// when they change.
package struct ConfigurationReloader: Service {
    private let load: @Sendable () -> Result<GatewayConfiguration, ConfigurationError>
    private let apply: @Sendable (GatewayConfiguration) throws -> Void
    private let tls: TLSContextStore
    private let logger: Logger
    private let pollInterval: Duration
    /// Told when a SIGHUP reload starts and ends (`Type=notify` under systemd).
    private let notifier: SystemdNotifier?

    package init(
        load: @escaping @Sendable () -> Result<GatewayConfiguration, ConfigurationError>,
        apply: @escaping @Sendable (GatewayConfiguration) throws -> Void,
        tls: TLSContextStore,
        logger: Logger,
        pollInterval: Duration = .seconds(5),
        notifier: SystemdNotifier? = nil
    ) {
        self.load = load
        self.apply = apply
        self.tls = tls
        self.logger = logger
        self.pollInterval = pollInterval
        self.notifier = notifier
    }

    package func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in signals {
                        notifier?.reloading()
                        reloadNow()
                        notifier?.ready()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pollInterval)
                        if Task.isCancelled { break }
                        tls.reloadIfChanged(logger: logger)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// One reload, as SIGHUP does it.
    package func reloadNow() {
        logger.info("reloading configuration")
        switch load() {
        case .failure(let error):
            logger.error("configuration reload refused; keeping the running configuration", metadata: [
                "problems": "\(error.problems.map(\.description))",
            ])
        case .success(let configuration):
            do {
                try apply(configuration)
                logger.info("configuration reloaded", metadata: ["routes": "\(configuration.routes.count)"])
            } catch {
                logger.error("configuration reload failed; keeping the running configuration", metadata: ["reason": "\(error)"])
            }
        }
    }
}
