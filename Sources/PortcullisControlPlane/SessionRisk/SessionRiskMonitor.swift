import Foundation
import Logging
import PortcullisCore
import ServiceLifecycle

/// Runs the suspicious-session signals (SPEC §3) where sessions start and where a live
/// session's client address changes: reads the user's history, asks the pure
/// ``SessionRiskPolicy``, writes the observation and the new flags with their audit entries
/// (and, for `deny`, the revocation; for `step_up`, the mark) in one transaction, drops the
/// session from this instance's cache (PostgreSQL tells the others), and hands each new flag
/// to the webhook. As a service it prunes the history past the window, hourly.
package final class SessionRiskMonitor: Service, Sendable {
    private let store: any SessionRiskStore & UserLookupStore
    private let cache: any CredentialInvalidation
    private let configuration: SessionRiskConfiguration
    private let alerts: SessionRiskAlerts?
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let pruneInterval: Duration
    private let onFlag: @Sendable (SessionFlag) -> Void

    package init(
        store: any SessionRiskStore & UserLookupStore, cache: any CredentialInvalidation, configuration: SessionRiskConfiguration, alerts: SessionRiskAlerts?, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, pruneInterval: Duration = .seconds(3_600),
        onFlag: @escaping @Sendable (SessionFlag) -> Void = { _ in }
    ) {
        self.onFlag = onFlag
        self.store = store
        self.cache = cache
        self.configuration = configuration
        self.alerts = alerts
        self.logger = logger
        self.now = now
        self.pruneInterval = pruneInterval
    }

    package var isEnabled: Bool { configuration.enabled }

    /// A new session, observed now. `freshSignIn`: the user has just signed in with `prompt=login` (a
    /// step-up), so `step_up` flags raised now are already satisfied. Answers what was
    /// written; `nil` when the signals are off or the store failed (logged: a sign-in is not
    /// refused because its history could not be read).
    @discardableResult
    package func assessSignIn(_ session: SessionRecord, freshSignIn: Bool) async -> SessionRiskRecorded? {
        guard configuration.enabled else { return nil }
        let observation = SessionObservation(at: now(), event: .signIn, place: ObservedPlace(session.createdLocation), device: session.device)
        return await assess(
            observation, session: session.idHash, userID: session.userID, client: session.createdIP, freshSignIn: freshSignIn
        ) { policy, history in
            policy.assess(observation, history: history)
        }
    }

    /// A live session moved to another client address (from the data path, off the request
    /// path).
    package func assessAddressChange(_ change: SessionAddressChange) async {
        guard configuration.enabled else { return }
        let observation = SessionObservation(
            at: change.at, event: .addressChange, place: ObservedPlace(change.location), device: change.device
        )
        // Another address in the same place (a new address from the same provider) tells the
        // history nothing new: it is judged, not kept, so a session hopping between addresses
        // cannot fill the store.
        let moved = observation.place != ObservedPlace(change.previousLocation)
        await assess(
            observation, session: change.sessionIDHash, userID: change.userID, client: change.address, freshSignIn: false, keep: moved
        ) { policy, history in
            policy.assess(
                observation, history: history, previousPlace: ObservedPlace(change.previousLocation),
                previousAddress: change.previousAddress, address: change.address
            )
        }
    }

    @discardableResult
    private func assess(
        _ observation: SessionObservation, session: SessionIDHash, userID: String, client: IPAddress, freshSignIn: Bool, keep: Bool = true,
        judge: (SessionRiskPolicy, [SessionObservation]) -> SessionRiskAssessment
    ) async -> SessionRiskRecorded? {
        let policy = configuration.policy
        do {
            let since = observation.at.addingTimeInterval(-policy.historyWindow.secondsValue)
            let history = try await store.riskHistory(userID: userID, since: since, limit: SessionRiskMonitor.historyLimit)
            let assessment = judge(policy, history)
            let flags = assessment.flags.map { flag in
                SessionFlag(
                    id: Self.newFlagID(), sessionIDHash: session, userID: userID, evidence: flag.evidence,
                    action: flag.action, raisedAt: observation.at,
                    steppedUpAt: freshSignIn && flag.action == .stepUp ? observation.at : nil
                )
            }
            let audit = AuditContext(actor: SessionRiskRecord.actor, actorIsSuperAdmin: false, sourceIP: client.description, at: observation.at)
            // A place or device that was denied, or that waits for a fresh sign-in, does not
            // enter the history: otherwise simply trying again would make it known.
            let trusted = keep && !flags.contains { $0.action == .deny || $0.awaitsStepUp }
            let recorded = try await store.recordSessionRisk(SessionRiskRecord(
                userID: userID, sessionIDHash: session, observation: trusted ? observation : nil, flags: flags, audit: audit
            ))
            if recorded.revoked || recorded.awaitsStepUp { cache.evict(session) }
            for flag in recorded.raised {
                onFlag(flag)
                logger.notice("session flagged", metadata: [
                    "kind": "\(flag.kind.rawValue)", "action": "\(flag.action.rawValue)", "reason": "\(flag.reason)",
                    "user_id": "\(userID)", "session": "\(session)", "flag": "\(flag.id)",
                ])
            }
            if let alerts, !recorded.raised.isEmpty {
                let email = (try? await store.user(id: userID))?.email
                for flag in recorded.raised {
                    alerts.enqueue(SessionRiskAlert(flag: flag, email: email, revoked: recorded.revoked, awaitsStepUp: recorded.awaitsStepUp))
                }
            }
            return recorded
        } catch {
            logger.warning("the session risk signals could not be evaluated", metadata: [
                "session": "\(session)", "event": "\(observation.event.rawValue)", "error": "\(error)",
            ])
            return nil
        }
    }

    /// 128 random bits, hex: safe in a URL path.
    static func newFlagID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// The newest observations the signals read for one user.
    package static let historyLimit = 1_000

    // MARK: pruning

    /// Deletes history older than the window, now.
    @discardableResult
    package func prune() async -> Int {
        let cutoff = now().addingTimeInterval(-configuration.policy.historyWindow.secondsValue)
        do {
            let pruned = try await store.pruneSessionHistory(before: cutoff)
            if pruned > 0 { logger.info("session history pruned", metadata: ["observations": "\(pruned)"]) }
            return pruned
        } catch {
            logger.notice("session history not pruned", metadata: ["error": "\(error)"])
            return 0
        }
    }

    package func run() async throws {
        while !Task.isCancelled {
            await prune()
            do {
                let interval = pruneInterval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
