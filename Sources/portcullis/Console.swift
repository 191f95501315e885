import Foundation

/// Writes for people at a terminal.
enum Console {
    /// Written at once (not through stdio's buffer), so it interleaves with the log lines.
    static func out(_ message: String) {
        FileHandle.standardOutput.write(Data((message + "\n").utf8))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
