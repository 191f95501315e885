import CoreMetrics
import Foundation
import PortcullisControlPlane
import PortcullisCore

/// Session metrics (SPEC §9): how many sessions are active, and how long a revocation
/// committed anywhere took to make this instance drop the session.
package final class SessionMetrics: Sendable {
    /// `portcullis_active_sessions`: sessions in the store neither revoked nor expired (idle or
    /// absolute). Store-wide: every instance on a shared store reports the same number.
    private let activeSessions: Gauge
    /// `portcullis_revocation_propagation_seconds`: from the revocation's commit (the database's
    /// clock as it announced it) to this instance having dropped the session from its cache.
    private let revocationPropagation: CoreMetrics.Timer

    private let factory: any MetricsFactory

    package static let activeSessionsLabel = "portcullis_active_sessions"
    package static let revocationPropagationLabel = "portcullis_revocation_propagation_seconds"
    package static let flagsLabel = "portcullis_session_flags_total"
    package static let alertsLabel = "portcullis_session_risk_alerts_total"

    package init(factory: any MetricsFactory) {
        self.factory = factory
        activeSessions = Gauge(label: Self.activeSessionsLabel, dimensions: [], factory: factory)
        revocationPropagation = CoreMetrics.Timer(label: Self.revocationPropagationLabel, dimensions: [], factory: factory)
    }

    /// `portcullis_session_flags_total{kind, action}`: suspicious-session flags this instance
    /// raised.
    package func recordFlag(_ flag: SessionFlag) {
        Counter(label: Self.flagsLabel, dimensions: [("kind", flag.kind.rawValue), ("action", flag.action.rawValue)], factory: factory)
            .increment()
    }

    /// `portcullis_session_risk_alerts_total{outcome}`: webhook alerts `delivered`, `dropped`
    /// (the queue was full) or `failed` (refused, or out of tries).
    package func recordAlert(_ outcome: SessionRiskAlerts.Outcome) {
        Counter(label: Self.alertsLabel, dimensions: [("outcome", outcome.rawValue)], factory: factory).increment()
    }

    package func recordActiveSessions(_ count: Int) {
        activeSessions.record(count)
    }

    /// One revocation applied here. A negative span (clocks apart) counts as zero.
    package func recordRevocationPropagation(committedAt: Date, droppedAt: Date) {
        let seconds = max(0, droppedAt.timeIntervalSince(committedAt))
        revocationPropagation.recordNanoseconds(Int64(min(seconds, 86_400) * 1_000_000_000))
    }
}
