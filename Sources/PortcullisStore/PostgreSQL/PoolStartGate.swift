import Foundation
import Synchronization

/// Holds store operations back until ``PostgresStore/run()`` has started the connection pool:
/// a lease before `PostgresClient.run()` makes postgres-nio warn ("run() hasn't been called
/// yet") and, if the pool never runs, waits forever. Waiting here is cancellable.
final class PoolStartGate: Sendable {
    private enum State {
        case closed([UUID: CheckedContinuation<Void, Never>])
        case open
    }

    private let state = Mutex<State>(.closed([:]))

    var isOpen: Bool {
        state.withLock { if case .open = $0 { true } else { false } }
    }

    /// Lets every waiter, present and future, through.
    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard case .closed(let waiters) = state else { return [] }
            state = .open
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open, or at once when the task is cancelled.
    func waitUntilOpen() async {
        if isOpen { return }
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let passNow = state.withLock { state -> Bool in
                    guard case .closed(var waiters) = state, !Task.isCancelled else { return true }
                    waiters[id] = continuation
                    state = .closed(waiters)
                    return false
                }
                if passNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard case .closed(var waiters) = state, let waiter = waiters.removeValue(forKey: id) else { return nil }
                state = .closed(waiters)
                return waiter
            }
            waiter?.resume()
        }
    }
}
