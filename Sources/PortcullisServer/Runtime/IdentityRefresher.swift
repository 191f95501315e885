import Foundation
import Logging
import PortcullisCore
import ServiceLifecycle
import PortcullisControlPlane

/// Refreshes the groups and claims of every user with a live session, with their refresh token,
/// every `identity.oidc.refresh_interval` (SPEC §2): a user removed from a group at the provider
/// loses the group's role within the interval, not at their next sign-in. Runs beside the
/// listeners, never on the request path; a few users at a time.
package final class IdentityRefresher: Service, Sendable {
    private let sync: IdentitySync
    private let store: any IdentityGrantStore
    private let interval: Duration
    private let logger: Logger
    static let batch = 20

    package init(sync: IdentitySync, store: any IdentityGrantStore, interval: Duration, logger: Logger) {
        self.sync = sync
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// How often to look for users due: a quarter of the interval, between 1 s and 1 min.
    var tick: Duration { min(max(interval / 4, .seconds(1)), .seconds(60)) }

    package func run() async throws {
        while !Task.isCancelled {
            let tick = self.tick
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                return
            }
            await refreshDue()
        }
    }

    /// One round: everyone whose last refresh is older than the interval.
    package func refreshDue() async {
        let now = Date()
        let due: [StoredRefreshToken]
        do {
            due = try await store.refreshTokensDue(
                refreshedBefore: now.addingTimeInterval(-interval.secondsValue), now: now, limit: Self.batch
            )
        } catch {
            logger.warning("cannot read the refresh tokens due", metadata: ["error": "\(error)"])
            return
        }
        for token in due {
            guard !Task.isCancelled else { return }
            do {
                let outcome = try await sync.sync(
                    userID: token.userID, audit: AuditContext(actor: "idp", actorIsSuperAdmin: false, sourceIP: nil, at: now), alwaysAudit: false
                )
                if case .synced(let before, let after) = outcome, before != after {
                    logger.info("groups refreshed from the identity provider", metadata: ["user_id": "\(token.userID)"])
                }
            } catch {
                logger.warning("background refresh failed", metadata: ["user_id": "\(token.userID)", "error": "\(error)"])
            }
        }
    }
}
