import CoreMetrics
import PortcullisCore
import Synchronization

/// `portcullis_store_operation_duration_seconds{operation}` (SPEC §9): the latency of every
/// store operation, by the operation's name in snake_case (`read_session_identity`,
/// `revoke_sessions_of_a_user`). The names are a fixed set in the stores' code.
package final class StoreOperationMetrics: StoreOperationObserver {
    package static let label = "portcullis_store_operation_duration_seconds"
    /// `portcullis_store_errors_total{operation}`: operations that failed (the database could
    /// not be reached or refused the statement), not refusals the store decided.
    package static let errorsLabel = "portcullis_store_errors_total"

    private struct Handles {
        let timer: Timer
        let errors: Counter
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[String: Handles]>([:])

    package init(factory: any MetricsFactory) {
        self.factory = factory
    }

    package func storeOperation(_ operation: String, finishedAfter duration: Duration, failed: Bool) {
        let handles = self.handles.withLock { handles in
            if let existing = handles[operation] { return existing }
            let name = Self.labelValue(operation)
            let created = Handles(
                timer: Timer(label: Self.label, dimensions: [("operation", name)], factory: factory),
                errors: Counter(label: Self.errorsLabel, dimensions: [("operation", name)], factory: factory)
            )
            handles[operation] = created
            return created
        }
        let (seconds, attoseconds) = duration.components
        handles.timer.recordNanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        if failed { handles.errors.increment() }
    }

    /// `read session identity` → `read_session_identity`; anything but letters and digits
    /// becomes `_`.
    static func labelValue(_ operation: String) -> String {
        String(operation.lowercased().unicodeScalars.prefix(64).map { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
        })
    }
}
