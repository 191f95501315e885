import Foundation
import Synchronization

/// A process a test starts and always stops: SIGTERM, a grace period, then SIGKILL, reaped with
/// `waitpid` either way, and whatever it started in turn is killed with it. Prefer the scoped
/// forms (``withRunning(_:environment:directory:output:grace:_:)``, ``run(_:environment:directory:timeout:)``):
/// they stop the process when the test fails, throws or is cancelled, too. Started inside a
/// ``ProcessLeakCheck`` scope, it is checked at the scope's end.
public final class ChildProcess: Sendable, CustomStringConvertible {
    public let pid: pid_t
    public let command: String
    /// The exit status once reaped: the code for an exit, 128 + the signal for a signal.
    private let status = Mutex<Int32?>(nil)

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public var description: String { "pid \(pid) (\(command))" }

    /// Children of this test process that test support started and has not reaped yet (here
    /// and in ``Subprocess``): the leak check leaves them to their owners.
    static let managed = Mutex<Set<pid_t>>([])

    /// Starts `arguments` (looked up on `PATH`), with stdin from /dev/null, stdout into `output`
    /// (a file, created or truncated; /dev/null without one) and stderr into `errors`, or with
    /// stdout when there is none.
    public static func start(
        _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, output: String? = nil, errors: String? = nil
    ) throws -> ChildProcess {
        guard !arguments.isEmpty else { throw Failure(description: "no command") }
        // Glibc's posix_spawn_file_actions_addchdir_np is not visible from Swift: a shell
        // changes folder, then becomes the command.
        let arguments = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + arguments } ?? arguments
        let pid = try spawn(arguments, environment: environment, output: output, errors: errors)
        let process = ChildProcess(pid: pid, command: (directory.map { "(in \($0)) " } ?? "") + arguments.suffix(from: directory == nil ? 0 : 4).joined(separator: " "))
        ProcessLeakCheck.current?.started(process)
        return process
    }

    /// Spawns `arguments` (looked up on `PATH`) with stdin from /dev/null, stdout into `output`
    /// (a file, created or truncated; /dev/null without one) and stderr into `errors`, or with
    /// stdout when there is none; registered in ``managed`` until reaped. The one place test
    /// support spawns (``start(_:environment:directory:output:errors:)`` and ``Subprocess``).
    static func spawn(_ arguments: [String], environment: [String: String]?, output: String?, errors: String?) throws -> pid_t {
        guard let executable = arguments.first else { throw Failure(description: "no command") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Nothing else is inherited: a process that outlives the test (pg_ctl's postgres, nginx)
        // must not hold this process's descriptors, such as the test lock taken with flock.
        // (glibc ignores a close action for a descriptor that is no longer open.)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let descriptor = Int32(entry), descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment ?? [:] { merged[key] = value }
        var envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0)=\($1)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        resetSignals(&attributes)
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, executable, &actions, &attributes, &argv, &envp)
        guard spawned == 0 else {
            throw Failure(description: "\(executable): cannot start (\(String(cString: strerror(spawned))))")
        }
        managed.withLock { _ = $0.insert(pid) }
        return pid
    }

    private init(pid: pid_t, command: String) {
        self.pid = pid
        self.command = String(command.prefix(200))
    }

    /// The child starts with default signal handling and nothing blocked. A test process that
    /// ran a service group ignores SIGTERM, SIGINT and SIGHUP (swift-service-lifecycle traps them
    /// with `SIG_IGN` and a dispatch source), and ignored signals are inherited across `exec`:
    /// without this every child would ignore SIGTERM.
    static func resetSignals(_ attributes: inout posix_spawnattr_t) {
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    }

    /// Reaps the process if it has exited; never blocks.
    public var exitStatus: Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            } else if result == -1, errno == ECHILD {
                status = -1  // reaped elsewhere: gone all the same
            }
            if status != nil { _ = Self.managed.withLock { $0.remove(pid) } }
            return status
        }
    }

    public var isRunning: Bool { exitStatus == nil }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` for the process to exit; its status, or `nil` if it still runs.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus { return status }
            if ContinuousClock.now >= deadline { return nil }
            // Not cancellable on purpose: stopping must finish even in a cancelled test.
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; reaped. Processes it started that are
    /// still alive afterwards are killed too. Answers the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Int32 {
        let started = ProcessTable.snapshot().descendants(of: pid)
        defer { Self.killAll(started) }
        if let status = exitStatus { return status }
        kill(pid, SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        kill(pid, SIGKILL)
        return await waitForExit(timeout: .seconds(10)) ?? -1
    }

    /// SIGKILL at once (a crash, for durability tests); reaped.
    @discardableResult
    public func kill9() async -> Int32 {
        await stop(grace: .zero)
    }

    static func killAll(_ processes: [ProcessTable.Entry]) {
        for process in processes where process.isAlive {
            kill(process.pid, SIGKILL)
        }
    }

    /// Starts the process, runs `body`, and stops the process however `body` ends.
    public static func withRunning<T>(
        _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, output: String? = nil,
        grace: Duration = .seconds(5), _ body: (ChildProcess) async throws -> T
    ) async throws -> T {
        let process = try start(arguments, environment: environment, directory: directory, output: output)
        do {
            let result = try await body(process)
            await process.stop(grace: grace)
            return result
        } catch {
            await process.stop(grace: grace)
            throw error
        }
    }

    /// How a command run to completion ended.
    public struct Completion: Sendable {
        /// The exit code, 128 + the signal for a signal.
        public let status: Int32
        /// Standard output (with standard error, unless they were kept apart).
        public let output: String
        /// Standard error, when kept apart.
        public let errors: String
        /// It ran past its time (or the test was cancelled) and was stopped.
        public let wasStopped: Bool
    }

    /// Runs the command to completion and collects what it printed; past `timeout`, or when
    /// the task is cancelled, it is stopped and the answer says so.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        timeout: Duration = .seconds(60), separatingErrors: Bool = false
    ) async throws -> Completion {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = try start(
            arguments, environment: environment, directory: directory, output: folder + "/out", errors: separatingErrors ? folder + "/err" : nil
        )
        let deadline = ContinuousClock.now + timeout
        var status = process.exitStatus
        while status == nil, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
            status = process.exitStatus
        }
        let stopped = status == nil
        let finished: Int32
        if let status {
            finished = status
        } else {
            finished = await process.stop(grace: .seconds(2))
        }
        var output = (try? String(contentsOfFile: folder + "/out", encoding: .utf8)) ?? ""
        if stopped {
            output += "\n[stopped after \(timeout)\(Task.isCancelled ? " (cancelled)" : ""): \(process.command)]"
        }
        let errors = separatingErrors ? (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? "" : ""
        return Completion(status: finished, output: output, errors: errors, wasStopped: stopped)
    }
}
