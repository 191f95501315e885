import Foundation
import Synchronization
import Testing

/// A suite trait that fails the suite when a process its tests started through
/// ``ChildProcess`` is still running once every test has finished, and then stops it (and
/// whatever it started). It also reports running children of the test process that test
/// support did not start at all (a Foundation `Process` left behind, say).
///
///     @Suite(.serialized, .noProcessLeftBehind) struct ServerTests {}
public struct ProcessLeakCheck: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    /// The scope that processes started on this task belong to.
    @TaskLocal public static var current: Scope?

    /// The processes started while a scope was current.
    public final class Scope: Sendable {
        private let processes = Mutex<[ChildProcess]>([])

        public init() {}

        func started(_ process: ChildProcess) {
            processes.withLock { $0.append(process) }
        }

        /// Started in this scope and still running.
        public var running: [ChildProcess] {
            processes.withLock { $0 }.filter(\.isRunning)
        }

        /// Every process started in this scope, running or not.
        var all: [ChildProcess] { processes.withLock { $0 } }
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let scope = Scope()
        try await Self.$current.withValue(scope) { try await function() }
        for leak in Self.leaks(in: scope) {
            Issue.record("a process was left running after the suite: \(leak)")
        }
        for process in scope.running { await process.stop(grace: .seconds(2)) }
        ChildProcess.killAll(Self.unmanagedChildren(besides: scope))
    }

    /// What a scope left behind: its processes still running, and children of this test
    /// process that no ``ChildProcess`` accounts for.
    public static func leaks(in scope: Scope) -> [String] {
        scope.running.map(\.description) + unmanagedChildren(besides: scope).map(\.description)
    }

    private static func unmanagedChildren(besides scope: Scope) -> [ProcessTable.Entry] {
        let known = Set(scope.all.map(\.pid)).union(ChildProcess.managed.withLock { $0 })
        let me = getpid()
        return ProcessTable.snapshot().entries.filter { $0.parent == me && !$0.isZombie && !known.contains($0.pid) }
    }
}

extension Trait where Self == ProcessLeakCheck {
    /// Every process the suite's tests started must be gone when the suite ends.
    public static var noProcessLeftBehind: Self { ProcessLeakCheck() }
}
