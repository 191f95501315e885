#if canImport(Glibc)
// `timespec` is declared by every module that includes <time.h>; which one the compiler names
// as its owner depends on the build (Glibc in one, Foundation's CoreFoundation in another), so
// MemberImportVisibility asks for both.
import CoreFoundation
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import PortcullisCore
import Synchronization

/// One JSON object per line: time, level, logger label, message and metadata. Built by hand
/// (no Foundation, no sorting) because the access log writes a line per request. Secrets never
/// reach it: callers log reason codes and names, never tokens or cookies.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info
    package var metadataProvider: Logger.MetadataProvider?
    private let labelField: String
    private let sink: BufferedLogSink

    package init(label: String, sink: BufferedLogSink, level: Logger.Level = .info) {
        var field = ""
        LogText.appendEscaped(label, to: &field)
        self.labelField = field
        self.sink = sink
        self.logLevel = level
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var line = ""
        line.reserveCapacity(384)
        line += "{\"time\":\""
        LogText.appendTimestamp(to: &line)
        line += "\",\"level\":\""
        line += event.level.rawValue
        line += "\",\"logger\":\""
        line += labelField
        line += "\",\"message\":\""
        LogText.appendEscaped(event.message.description, to: &line)
        line += "\""
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata {
            if merged.isEmpty { merged = extra } else { merged.merge(extra) { _, new in new } }
        }
        for (key, value) in merged {
            line += ",\""
            LogText.appendEscaped(key, to: &line)
            line += "\":\""
            LogText.appendEscaped(value, to: &line)
            line += "\""
        }
        line += "}"
        sink.write(line)
    }
}

/// Small, allocation-light text helpers for log lines.
enum LogText {
    static func appendEscaped(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let text): appendEscaped(text, to: &line)
        case .stringConvertible(let convertible): appendEscaped(convertible.description, to: &line)
        case .array(let values): appendEscaped(values.map(\.description).joined(separator: ","), to: &line)
        case .dictionary(let values): appendEscaped(values.map { "\($0)=\($1)" }.joined(separator: ","), to: &line)
        }
    }

    /// Appends `text` escaped for a JSON string (`JSONText.appendEscaped`).
    @inline(__always)
    static func appendEscaped(_ text: String, to line: inout String, htmlSafe: Bool = false) {
        JSONText.appendEscaped(text, to: &line, htmlSafe: htmlSafe)
    }

    /// The formatted second, reused until the clock moves on.
    private static let secondCache = Mutex<(second: Int64, text: String)>((-1, ""))

    /// `2026-11-22T20:00:04.531Z`, from the real-time clock.
    static func appendTimestamp(to line: inout String) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = Int64(spec.tv_sec)
        let prefix = secondCache.withLock { cache -> String in
            if cache.second == second { return cache.text }
            var text = ""
            appendTimestamp(seconds: second, milliseconds: 0, to: &text)
            text.removeLast(5)  // ".000Z"
            cache = (second, text)
            return text
        }
        line += prefix
        let millis = Int(spec.tv_nsec / 1_000_000)
        line += "."
        line.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + UInt8(millis / 100)))
        line.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + UInt8(millis / 10 % 10)))
        line.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + UInt8(millis % 10)))
        line += "Z"
    }

    static func appendTimestamp(seconds: Int64, milliseconds: Int, to line: inout String) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        appendDigits(year, 4, &line)
        line += "-"
        appendDigits(month, 2, &line)
        line += "-"
        appendDigits(day, 2, &line)
        line += "T"
        appendDigits(secondOfDay / 3_600, 2, &line)
        line += ":"
        appendDigits(secondOfDay / 60 % 60, 2, &line)
        line += ":"
        appendDigits(secondOfDay % 60, 2, &line)
        line += "."
        appendDigits(milliseconds, 3, &line)
        line += "Z"
    }

    private static func appendDigits(_ value: Int, _ width: Int, _ line: inout String) {
        var digits: [UInt8] = Array(repeating: UInt8(ascii: "0"), count: width)
        var remaining = value
        var index = width - 1
        while index >= 0 {
            digits[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        }
        line += String(decoding: digits, as: UTF8.self)
    }
}
