import Foundation
import Synchronization

/// Runs a command to completion with `posix_spawn` and `waitpid`, its output (stdout and stderr
/// together) collected in a file. Foundation's `Process` can miss the exit of a child whose own
/// children outlive it, as `pg_ctl start`'s do.
public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Blocks the calling thread until the command exits.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(arguments, environment: environment, output: output, errors: nil)
        } catch let failure as ChildProcess.Failure {
            throw Failure(description: failure.description)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        _ = ChildProcess.managed.withLock { $0.remove(pid) }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), text)
    }
}
