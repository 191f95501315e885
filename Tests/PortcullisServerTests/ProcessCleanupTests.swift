import Foundation
import PortcullisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
/// Test support stops what it starts: SIGTERM, a grace period, SIGKILL, reaped, even when the
/// test fails; and the leak check finds what was left.
@Suite("Processes started by tests")
struct ProcessCleanupTests {
    /// A process that ignores SIGTERM, as oidc-provider-mock does.
    static let stubborn = ["sh", "-c", "trap '' TERM; exec sleep 60"]

    struct Boom: Error {}

    @Test("a process that ignores SIGTERM is killed after the grace period, and reaped")
    func escalates() async throws {
        let process = try ChildProcess.start(Self.stubborn)
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        let status = await process.stop(grace: .milliseconds(300))
        #expect(status == 128 + SIGKILL, "it ignored SIGTERM, so SIGKILL ended it")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(!process.isRunning)
        #expect(ProcessTable.entry(process.pid) == nil, "reaped: not even a zombie is left")
    }

    @Test("the scoped form stops the process when the test's body throws")
    func stopsOnFailure() async throws {
        var pid: pid_t = 0
        await #expect(throws: Boom.self) {
            try await ChildProcess.withRunning(Self.stubborn, grace: .milliseconds(200)) { process in
                pid = process.pid
                throw Boom()
            }
        }
        #expect(pid != 0)
        #expect(ProcessTable.entry(pid) == nil, "the process outlived a failing test")
    }

    @Test("what a process started is stopped with it")
    func stopsDescendants() async throws {
        // The shell starts a sleeping child, then waits: stopping the shell must end both.
        let process = try ChildProcess.start(["sh", "-c", "sleep 60 & wait"])
        var children: [ProcessTable.Entry] = []
        for _ in 0..<100 where children.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            children = ProcessTable.snapshot().descendants(of: process.pid)
        }
        try #require(!children.isEmpty)
        await process.stop(grace: .seconds(1))
        for _ in 0..<100 where children.contains(where: \.isAlive) { try await Task.sleep(for: .milliseconds(20)) }
        let survivors = children.filter(\.isAlive)
        #expect(survivors.isEmpty, "\(survivors) outlived their parent")
    }

    @Test("the leak check reports a process left running in its scope, and none once it is stopped")
    func leakCheck() async throws {
        let scope = ProcessLeakCheck.Scope()
        let process = try ProcessLeakCheck.$current.withValue(scope) { try ChildProcess.start(Self.stubborn) }
        #expect(ProcessLeakCheck.leaks(in: scope).contains { $0.contains("pid \(process.pid) ") })
        await process.stop(grace: .milliseconds(100))
        #expect(ProcessLeakCheck.leaks(in: scope).isEmpty, "\(ProcessLeakCheck.leaks(in: scope))")
    }

    @Test("a command that runs past its time is stopped, and the answer says so")
    func timeout() async throws {
        let result = try await ChildProcess.run(["sh", "-c", "echo started; exec sleep 60"], timeout: .milliseconds(300))
        #expect(result.wasStopped)
        #expect(result.output.hasPrefix("started\n"))
        #expect(result.output.contains("[stopped after"))
    }
}
}
