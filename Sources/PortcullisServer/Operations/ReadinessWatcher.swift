import Logging
import ServiceLifecycle
import PortcullisDataPath

/// Marks the listener ready once it is bound (and says where it listens), and the store ready
/// while the change watcher's polls reach it within their deadline; checks once a second, so
/// `/readyz` turns 503 within a few seconds of the store hanging or going away, and 200 again
/// when it answers. Under systemd, sends `READY=1` then and `STOPPING=1` when graceful
/// shutdown begins.
package struct ReadinessWatcher: Service {
    let gateway: Gateway
    let changes: ChangeWatcher
    let readiness: Readiness
    let notifier: SystemdNotifier?
    let interval: Duration
    let logger: Logger

    package init(
        gateway: Gateway, changes: ChangeWatcher, readiness: Readiness, notifier: SystemdNotifier?, interval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.gateway = gateway
        self.changes = changes
        self.readiness = readiness
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let address = try await gateway.server.boundAddress()
        // `/_portcullis/` needs the control plane's port, known once it is bound.
        for _ in 0..<1_000 where gateway.runtime.controlPlane == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        readiness.markReady("listener")
        logger.info("ready", metadata: ["address": "\(address)"])
        notifier?.ready(status: "serving on \(address)")
        defer { notifier?.stopping() }
        let interval = self.interval
        while !Task.isCancelled {
            if changes.isStoreReachable {
                readiness.markReady("store")
            } else {
                readiness.markNotReady("store", reason: "the store cannot be reached")
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
