import Synchronization

/// How long a request waits on the store (`store.request_deadline`): a store that hangs (a
/// database whose processes are stopped, a partition, a file lock held elsewhere) must not hold
/// requests; past the deadline the caller fails closed with a reason (`session_unverifiable`,
/// `store_unavailable`).
///
/// The deadline holds whatever the operation does: the caller is answered when it passes, even
/// if the operation ignores cancellation (a task group would wait for its child, which is how a
/// 2 s deadline once became 12 s). The operation is then cancelled and left to finish on its
/// own; the stores end a cancelled operation promptly (PostgreSQL closes the connection the
/// query hangs on).
package struct StoreDeadline: Sendable, CustomStringConvertible {
    package let duration: Duration

    /// `store.request_deadline`'s default.
    package static let requestPath = StoreDeadline(.seconds(1))

    package init(_ duration: Duration) {
        self.duration = duration
    }

    package var description: String { DurationText.format(duration) }

    package struct Exceeded: Error, CustomStringConvertible {
        package let deadline: Duration
        package var description: String { "the store did not answer within \(DurationText.format(deadline))" }
    }

    /// The operation's answer, or ``Exceeded`` once the deadline has passed (or
    /// `CancellationError` when the caller is cancelled first).
    package func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        let work = Task {
            let result: Result<T, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            race.finish(result)
        }
        let deadline = duration
        let timer = Task {
            try await Task.sleep(for: deadline)
            race.finish(.failure(Exceeded(deadline: deadline)))
        }
        defer {
            timer.cancel()
            work.cancel()
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in race.wait(continuation) }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The first of the operation, the timer and the caller's cancellation to finish decides.
    private final class Race<T: Sendable>: Sendable {
        private enum State {
            case running
            case waiting(CheckedContinuation<T, any Error>)
            case finished(Result<T, any Error>)
            case delivered
        }

        private let state = Mutex<State>(.running)

        func wait(_ continuation: CheckedContinuation<T, any Error>) {
            let ready = state.withLock { state -> Result<T, any Error>? in
                switch state {
                case .running:
                    state = .waiting(continuation)
                    return nil
                case .finished(let result):
                    state = .delivered
                    return result
                case .waiting, .delivered:
                    preconditionFailure("a deadline race is waited on once")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }

        func finish(_ result: Result<T, any Error>) {
            let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
                switch state {
                case .running:
                    state = .finished(result)
                    return nil
                case .waiting(let continuation):
                    state = .delivered
                    return continuation
                case .finished, .delivered:
                    return nil
                }
            }
            waiter?.resume(with: result)
        }
    }
}
