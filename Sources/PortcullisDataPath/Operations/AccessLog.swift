import Logging
import PortcullisCore

/// One structured line per request (SPEC §9): time, client IP, method, route, status, decision
/// and reason, latency, bytes. Never cookies, `Authorization` or the query string (it may carry
/// tokens).
///
/// In production the line is formatted straight into the JSON-lines sink (no metadata
/// dictionary per request); elsewhere it goes through a swift-log `Logger` as metadata.
package struct AccessLog: Sendable {
    private enum Destination: Sendable {
        case logger(Logger)
        case sink(BufferedLogSink, enabled: Bool)
    }

    private let destination: Destination

    package init(logger: Logger) {
        destination = .logger(logger)
    }

    /// Writes JSON lines (the same shape as ``JSONLogHandler``, logger `portcullis.access`).
    package init(sink: BufferedLogSink, enabled: Bool = true) {
        destination = .sink(sink, enabled: enabled)
    }

    package struct Entry {
        /// The client address, as text.
        var client: String
        var method: String
        var host: String?
        var path: String
        var route: String
        var status: Int
        var decision: String
        var reason: String
        var user: String?
        var durationMicroseconds: Int64
        var bytesIn: Int
        var bytesOut: Int
        var httpVersion: String
    }

    func record(_ entry: Entry) {
        switch destination {
        case .sink(let sink, let enabled):
            guard enabled else { return }
            sink.write(Self.line(entry))
        case .logger(let logger):
            guard logger.logLevel <= .info else { return }
            var metadata: Logger.Metadata = [
                "client": .string(entry.client),
                "method": .string(entry.method),
                "path": .string(entry.path),
                "route": .string(entry.route),
                "status": .string(String(entry.status)),
                "decision": .string(entry.decision),
                "reason": .string(entry.reason),
                "duration_us": .string(String(entry.durationMicroseconds)),
                "bytes_in": .string(String(entry.bytesIn)),
                "bytes_out": .string(String(entry.bytesOut)),
                "http": .string(entry.httpVersion),
            ]
            if let host = entry.host { metadata["host"] = .string(host) }
            if let user = entry.user { metadata["user"] = .string(user) }
            logger.info("request", metadata: metadata)
        }
    }

    static func line(_ entry: Entry) -> String {
        var line = ""
        line.reserveCapacity(320)
        line += "{\"time\":\""
        LogText.appendTimestamp(to: &line)
        line += "\",\"level\":\"info\",\"logger\":\"portcullis.access\",\"message\":\"request\",\"client\":\""
        line += entry.client
        line += "\",\"method\":\""
        LogText.appendEscaped(entry.method, to: &line)
        if let host = entry.host {
            line += "\",\"host\":\""
            LogText.appendEscaped(host, to: &line)
        }
        line += "\",\"path\":\""
        LogText.appendEscaped(entry.path, to: &line)
        line += "\",\"route\":\""
        line += entry.route
        line += "\",\"status\":\""
        line += String(entry.status)
        line += "\",\"decision\":\""
        line += entry.decision
        line += "\",\"reason\":\""
        line += entry.reason
        if let user = entry.user {
            line += "\",\"user\":\""
            LogText.appendEscaped(user, to: &line)
        }
        line += "\",\"duration_us\":\""
        line += String(entry.durationMicroseconds)
        line += "\",\"bytes_in\":\""
        line += String(entry.bytesIn)
        line += "\",\"bytes_out\":\""
        line += String(entry.bytesOut)
        line += "\",\"http\":\""
        line += entry.httpVersion
        line += "\"}"
        return line
    }
}
