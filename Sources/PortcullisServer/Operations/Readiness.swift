import Synchronization

/// What `/readyz` reports: each named check is ready or says why not.
package final class Readiness: Sendable {
    private let checks: Mutex<[String: String?]> = Mutex([:])

    package init() {}

    /// Declares a check that is not ready yet.
    package func register(_ name: String, waitingFor reason: String) {
        checks.withLock { $0[name] = .some(reason) }
    }

    package func markReady(_ name: String) {
        checks.withLock { $0[name] = .some(nil) }
    }

    package func markNotReady(_ name: String, reason: String) {
        checks.withLock { $0[name] = .some(reason) }
    }

    /// Ready when every check is; otherwise the reasons, by check.
    package var status: (ready: Bool, problems: [String: String]) {
        let current = checks.withLock { $0 }
        var problems: [String: String] = [:]
        for (name, reason) in current {
            if let reason { problems[name] = reason }
        }
        return (problems.isEmpty, problems)
    }
}
