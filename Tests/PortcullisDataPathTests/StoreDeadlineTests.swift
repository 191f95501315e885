import PortcullisCore
import Synchronization
import Testing
@testable import PortcullisDataPath

/// The deadline must hold whatever the store does with cancellation: postgres-nio ignores it
/// for a query in flight, and a deadline built on a task group waited for that query (the
/// issue's 12 s, and for ever on a server that never answers).
@Suite("Store deadline")
struct StoreDeadlineTests {
    /// An operation that ignores cancellation: it returns only when opened.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
        private let cancelled = Atomic<Bool>(false)

        var sawCancellation: Bool { cancelled.load(ordering: .relaxed) }

        func wait() async {
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let passNow = state.withLock { state -> Bool in
                        if state.open { return true }
                        state.waiter = continuation
                        return false
                    }
                    if passNow { continuation.resume() }
                }
            } onCancel: {
                cancelled.store(true, ordering: .relaxed)
            }
        }

        func open() {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.open = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// When a task finished, polled for rather than awaited: a deadline that does not hold must
    /// fail the test, not hang it.
    final class Finish: Sendable {
        private let at = Mutex<ContinuousClock.Instant?>(nil)

        func mark() { at.withLock { $0 = .now } }

        /// The instant it finished, waiting up to `limit` for it.
        func wait(upTo limit: Duration) async throws -> ContinuousClock.Instant? {
            let started = ContinuousClock.now
            while ContinuousClock.now - started < limit {
                if let instant = at.withLock({ $0 }) { return instant }
                try await Task.sleep(for: .milliseconds(10))
            }
            return at.withLock { $0 }
        }
    }

    @Test("an operation that ignores cancellation is answered at the deadline, then told to stop")
    func holdsAgainstAnOperationThatIgnoresCancellation() async throws {
        let gate = Gate()
        let deadline = StoreDeadline(.milliseconds(300))
        let finish = Finish()
        let started = ContinuousClock.now
        let task = Task {
            defer { finish.mark() }
            return try await deadline.run { () async throws -> Int in
                await gate.wait()
                return 1
            }
        }
        let finished = try await finish.wait(upTo: .seconds(5))
        gate.open()
        let elapsed = try #require(finished, "still waiting 5 s after a 300 ms deadline") - started
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(2), "answered after \(elapsed)")
        await #expect(throws: StoreDeadline.Exceeded.self) { try await task.value }
        for _ in 0..<100 where !gate.sawCancellation {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(gate.sawCancellation, "the operation was not cancelled after the deadline")
    }

    @Test("within the deadline the operation's answer, or its error, is the answer")
    func answersWithinTheDeadline() async throws {
        let deadline = StoreDeadline(.seconds(5))
        let started = ContinuousClock.now
        #expect(try await deadline.run { 42 } == 42)
        await #expect(throws: StoreError.self) {
            try await deadline.run { () async throws -> Int in throw StoreError(operation: "read", reason: "refused") }
        }
        #expect(ContinuousClock.now - started < .seconds(1), "the timer held the answer back")
    }

    @Test("a caller cancelled while waiting is answered at once")
    func cancelledCaller() async throws {
        let gate = Gate()
        let deadline = StoreDeadline(.seconds(30))
        let started = ContinuousClock.now
        let finish = Finish()
        let waiting = Task {
            defer { finish.mark() }
            return try await deadline.run { () async throws -> Int in
                await gate.wait()
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        let finished = try await finish.wait(upTo: .seconds(5))
        gate.open()
        #expect(finished.map { $0 - started < .seconds(5) } == true, "still waiting 5 s after its caller was cancelled")
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
