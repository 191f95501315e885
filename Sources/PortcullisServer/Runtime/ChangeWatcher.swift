import Logging
import PortcullisCore
import ServiceLifecycle
import Synchronization
import PortcullisDataPath

/// Notices administrative changes this process did not make (the CLI on the same SQLite file,
/// or another instance whose broadcast was lost) by watching the audit log's newest sequence
/// number: every administrative change is audited. On a change, every cached identity is read
/// again and the stored greenlists are reloaded. Costs one indexed read per interval.
///
/// Its polls also tell `/readyz` whether the store answers: each poll has a deadline of its
/// own, so a store that hangs (rather than refusing connections) fails the poll, and the
/// instance reports not ready within the interval plus that deadline.
package final class ChangeWatcher: Service, Sendable {
    private let store: any AuditStore & GreenlistSource
    private let version: PolicyVersion
    private let network: StoredNetworkPolicy
    private let refreshPolicy: @Sendable () throws -> Void
    private let interval: Duration
    /// How long one poll may take before the store counts as unreachable.
    private let deadline: StoreDeadline
    private let logger: Logger
    private let reachable = Atomic<Bool>(true)

    package init(
        store: any AuditStore & GreenlistSource, version: PolicyVersion, network: StoredNetworkPolicy,
        refreshPolicy: @escaping @Sendable () throws -> Void, interval: Duration = .milliseconds(500),
        deadline: StoreDeadline = ChangeWatcher.readinessDeadline, logger: Logger
    ) {
        self.store = store
        self.version = version
        self.network = network
        self.refreshPolicy = refreshPolicy
        self.interval = interval
        self.deadline = deadline
        self.logger = logger
    }

    /// A poll's deadline unless the configuration's request deadline is longer.
    package static let readinessDeadline = StoreDeadline(.seconds(2))

    /// Whether the last poll reached the store within its deadline (for `/readyz`).
    package var isStoreReachable: Bool { reachable.load(ordering: .relaxed) }

    package func run() async throws {
        let store = self.store
        let deadline = self.deadline
        var seen = try? await deadline.run { try await store.latestAuditSequence() }
        while !Task.isCancelled {
            let interval = self.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                let latest = try await deadline.run { try await store.latestAuditSequence() }
                if let previous = seen, latest != previous {
                    // Cut short, the change is applied again at the next poll (`seen` stays).
                    try await deadline.run { try await self.apply() }
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
