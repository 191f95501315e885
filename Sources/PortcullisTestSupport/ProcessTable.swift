import Foundation

/// The processes of this machine as `/proc` shows them, to find what a process started (its
/// descendants) and to check that what a test started has ended. Linux only.
public struct ProcessTable: Sendable {
    public struct Entry: Hashable, Sendable, CustomStringConvertible {
        public let pid: pid_t
        public let parent: pid_t
        /// `R`, `S`, `Z` (exited, not yet reaped), …
        public let state: Character
        /// Clock ticks after boot: with the pid, tells a process from a later one that reuses its pid.
        public let startTime: UInt64
        public let command: String

        public var isZombie: Bool { state == "Z" }

        /// Still the same process, and not a zombie.
        public var isAlive: Bool {
            guard let now = ProcessTable.entry(pid) else { return false }
            return now.startTime == startTime && !now.isZombie
        }

        public var description: String { "pid \(pid) (\(command))" }
    }

    public let entries: [Entry]

    /// Reads `/proc` now.
    public static func snapshot() -> ProcessTable {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return ProcessTable(entries: names.compactMap { pid_t($0) }.compactMap(entry))
    }

    /// Every process below `pid`, children first.
    public func descendants(of pid: pid_t) -> [Entry] {
        var found: [Entry] = []
        var parents: Set<pid_t> = [pid]
        while true {
            let next = entries.filter { parents.contains($0.parent) && !found.contains($0) }
            if next.isEmpty { return found }
            found += next
            parents = Set(next.map(\.pid))
        }
    }

    /// `/proc/PID/stat` and `/proc/PID/cmdline`, or `nil` when the process is gone.
    public static func entry(_ pid: pid_t) -> Entry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) " come state, ppid, … and the start time, field 22 of the line.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]), let start = UInt64(fields[19]) else { return nil }
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        var command = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        if command.isEmpty, let open = stat.firstIndex(of: "(") {
            command = String(stat[stat.index(after: open)..<close])
        }
        return Entry(pid: pid, parent: parent, state: state, startTime: start, command: String(command.prefix(200)))
    }
}
