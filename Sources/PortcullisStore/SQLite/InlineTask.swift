import Dispatch
import PortcullisCore
import Synchronization

/// Runs async code to its end on the calling thread. The store's logic is written once, as
/// async code (PostgreSQL answers over the network); GRDB hands out a SQLite connection only to
/// a synchronous closure on its own dispatch queue. Inside that closure the store's async body
/// runs here, as a task whose executor is this thread: SQLite's statements do not suspend, so
/// the whole body runs straight through, on GRDB's thread and inside its transaction, exactly as
/// synchronous code would. Should the body ever suspend on something else, its continuation
/// comes back to this thread, which waits for it (GRDB's thread, never an event loop or the
/// cooperative pool).
enum InlineTask {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = InlineTaskExecutor()
        let outcome = Mutex<Result<T, any Error>?>(nil)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            executor.wake()
        }
        executor.runJobs { outcome.withLock { $0 != nil } }
        guard let result = outcome.withLock({ $0 }) else {
            throw StoreError(operation: "run a store operation", reason: "the operation did not finish")
        }
        return try result.get()
    }
}

/// The executor of an ``InlineTask``: a queue of jobs that the thread waiting for the task runs.
final class InlineTaskExecutor: TaskExecutor {
    private let jobs = Mutex<[UnownedJob]>([])
    private let signal = DispatchSemaphore(value: 0)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        signal.signal()
    }

    /// Wakes ``runJobs(until:)`` to look at its condition again.
    func wake() {
        signal.signal()
    }

    /// Runs jobs as they come until `finished` holds and none is left.
    func runJobs(until finished: () -> Bool) {
        while true {
            if let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                job.runSynchronously(on: asUnownedTaskExecutor())
            } else if finished() {
                return
            } else {
                signal.wait()
            }
        }
    }
}
