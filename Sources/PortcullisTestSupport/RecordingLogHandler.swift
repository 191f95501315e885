import Logging
import Synchronization

/// Logs kept in memory for tests to read; never bootstraps the global logging system.
public final class LogRecorder: Sendable {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let label: String
        public let message: String
        public let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// A logger that records here.
    public func logger(_ label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { label in RecordingLogHandler(label: label, recorder: self) }
        logger.logLevel = level
        return logger
    }

    public var all: [Entry] { entries.withLock { $0 } }

    public func entries(message: String) -> [Entry] {
        all.filter { $0.message == message }
    }

    func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }
}

struct RecordingLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    let label: String
    let recorder: LogRecorder

    init(label: String, recorder: LogRecorder) {
        self.label = label
        self.recorder = recorder
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            flat[key] = value.description
        }
        recorder.append(LogRecorder.Entry(level: event.level, label: label, message: event.message.description, metadata: flat))
    }
}
