import CoreMetrics
import Foundation

/// Session metrics (SPEC §9): how many sessions are active, and how long a revocation
/// committed anywhere took to make this instance drop the session.
package final class SessionMetrics: Sendable {
    /// `portcullis_active_sessions`: sessions in the store neither revoked nor expired (idle or
    /// absolute). Store-wide: every instance on a shared store reports the same number.
    private let activeSessions: Gauge
    /// `portcullis_revocation_propagation_seconds`: from the revocation's commit (the database's
    /// clock as it announced it) to this instance having dropped the session from its cache.
    private let revocationPropagation: CoreMetrics.Timer

    package static let activeSessionsLabel = "portcullis_active_sessions"
    package static let revocationPropagationLabel = "portcullis_revocation_propagation_seconds"

    package init(factory: any MetricsFactory) {
        activeSessions = Gauge(label: Self.activeSessionsLabel, dimensions: [], factory: factory)
        revocationPropagation = CoreMetrics.Timer(label: Self.revocationPropagationLabel, dimensions: [], factory: factory)
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
