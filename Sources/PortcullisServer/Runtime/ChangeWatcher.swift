import Logging
import PortcullisCore
import ServiceLifecycle
import Synchronization
import PortcullisDataPath

/// Notices administrative changes this process did not make (the CLI on the same SQLite file,
/// or another instance whose broadcast was lost) by watching the audit log's newest sequence
/// number: every administrative change is audited. On a change, every cached identity is read
/// again and the stored greenlists are reloaded. Costs one indexed read per interval.
package final class ChangeWatcher: Service, Sendable {
    private let store: any AuditStore & GreenlistSource
    private let version: PolicyVersion
    private let network: StoredNetworkPolicy
    private let refreshPolicy: @Sendable () throws -> Void
    private let interval: Duration
    private let logger: Logger
    private let reachable = Atomic<Bool>(true)

    package init(
        store: any AuditStore & GreenlistSource, version: PolicyVersion, network: StoredNetworkPolicy,
        refreshPolicy: @escaping @Sendable () throws -> Void, interval: Duration = .milliseconds(500), logger: Logger
    ) {
        self.store = store
        self.version = version
        self.network = network
        self.refreshPolicy = refreshPolicy
        self.interval = interval
        self.logger = logger
    }

    /// Whether the last poll reached the store (for `/readyz`).
    package var isStoreReachable: Bool { reachable.load(ordering: .relaxed) }

    package func run() async throws {
        var seen = try? await store.latestAuditSequence()
        while !Task.isCancelled {
            let interval = self.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                let latest = try await store.latestAuditSequence()
                if let previous = seen, latest != previous {
                    try await apply()
                    logger.debug("administrative change noticed", metadata: ["audit_sequence": "\(latest)"])
                }
                seen = latest
                reachable.store(true, ordering: .relaxed)
            } catch {
                reachable.store(false, ordering: .relaxed)
                // Sessions fail closed on their own once max_staleness passes.
                logger.warning("cannot watch the store for changes", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Drops cached identities and reloads the network policy.
    package func apply() async throws {
        version.bump()
        if try await network.reload(from: store) {
            try refreshPolicy()
        }
    }
}
