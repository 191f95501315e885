import Foundation
import Logging
import PortcullisCore
import ServiceLifecycle
import PortcullisDataPath

/// Applies changes announced by the store (PostgreSQL NOTIFY, from any instance) to this
/// instance's caches: revoked sessions are dropped, cached identities are read again, the
/// access policy is rebuilt. After a lost connection everything cached is dropped. Each
/// revocation's delay from its commit to its sessions being dropped here is measured.
package final class StoreChangeListener: Service, Sendable {
    private let feed: any StoreChangeFeed
    private let cache: SessionCache
    private let network: StoredNetworkPolicy
    private let store: any GreenlistSource
    private let refreshPolicy: @Sendable () throws -> Void
    private let metrics: SessionMetrics?
    private let logger: Logger

    package init(
        feed: any StoreChangeFeed, cache: SessionCache, network: StoredNetworkPolicy, store: any GreenlistSource,
        refreshPolicy: @escaping @Sendable () throws -> Void, metrics: SessionMetrics? = nil, logger: Logger
    ) {
        self.feed = feed
        self.cache = cache
        self.network = network
        self.store = store
        self.refreshPolicy = refreshPolicy
        self.metrics = metrics
        self.logger = logger
    }

    package func run() async throws {
        let changes = feed.changes()
        // Cancelling the iteration ends it: on shutdown the store stops after this service.
        await cancelWhenGracefulShutdown {
            for await announced in changes {
                await self.apply(announced.change)
                self.measure(announced, droppedAt: Date())
            }
        }
    }

    /// A revocation (or, past the message size, a resynchronisation standing for one) that
    /// says when it committed: how long it took to be applied here.
    private func measure(_ announced: AnnouncedChange, droppedAt: Date) {
        guard let metrics, let committedAt = announced.committedAt else { return }
        switch announced.change {
        case .sessionsRevoked, .resynchronize:
            metrics.recordRevocationPropagation(committedAt: committedAt, droppedAt: droppedAt)
        case .sessionsChanged, .policyChanged, .networkChanged:
            break
        }
    }

    package func apply(_ change: StoreChange) async {
        switch change {
        case .sessionsRevoked(let sessions, let users):
            for hash in sessions { cache.evict(hash) }
            for user in users { cache.evict(userID: user) }
            // Bearer JWTs and API tokens of these users are cached elsewhere: read them again.
            cache.version.bump()
        case .sessionsChanged(let sessions):
            for hash in sessions { cache.evict(hash) }
        case .policyChanged:
            cache.version.bump()
        case .networkChanged:
            await reloadNetwork()
        case .resynchronize:
            cache.version.bump()
            await reloadNetwork()
        }
    }

    private func reloadNetwork() async {
        do {
            if try await network.reload(from: store) { try refreshPolicy() }
        } catch {
            logger.warning("stored greenlists could not be reloaded", metadata: ["error": "\(error)"])
        }
    }
}
