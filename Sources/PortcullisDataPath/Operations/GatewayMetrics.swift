import CoreMetrics
import Synchronization

/// The gateway's metrics (SPEC §9): requests by route name, decision and reason, latency by
/// route and decision, open connections, upstream errors. Labels are route names (from the
/// configuration), decisions and reason codes (fixed sets in code), never raw paths; a value
/// that is not a short snake_case token is counted as `other`, and past
/// ``maximumLabelSets`` new label sets fold into route `other`, so the series stay bounded
/// whatever a caller passes. Handles are created once per label set and cached.
package final class GatewayMetrics: Sendable {
    private struct RequestKey: Hashable {
        let route: String
        let decision: String
        let reason: String
    }

    private struct LatencyKey: Hashable {
        let route: String
        let decision: String
    }

    /// Label sets per metric before new ones fold into `other`.
    package static let maximumLabelSets = 5_000
    package static let requestDurationLabel = "portcullis_request_duration_seconds"

    private let factory: any MetricsFactory
    private let requestCounters: Mutex<[RequestKey: Counter]> = Mutex([:])
    private let latencyTimers: Mutex<[LatencyKey: Timer]> = Mutex([:])
    private let upstreamErrorCounters: Mutex<[RequestKey: Counter]> = Mutex([:])
    private let openConnections: Gauge
    private let acceptedConnections: Counter
    private let refusedConnections: Counter
    private let connectionCount = Atomic<Int>(0)

    package init(factory: any MetricsFactory) {
        self.factory = factory
        openConnections = Gauge(label: "portcullis_open_connections", dimensions: [], factory: factory)
        acceptedConnections = Counter(label: "portcullis_connections_accepted_total", dimensions: [], factory: factory)
        refusedConnections = Counter(label: "portcullis_connections_refused_total", dimensions: [], factory: factory)
    }

    /// One finished request: counted by route, decision and reason; its latency recorded by
    /// route and decision.
    package func recordRequest(route: String, decision: String, reason: String, durationNanoseconds: Int64) {
        let route = Self.labelValue(route, allowing: Self.isRouteName)
        let decision = Self.labelValue(decision, allowing: Self.isCode)
        let reason = Self.labelValue(reason, allowing: Self.isCode)
        let counter = requestCounters.withLock { counters in
            var key = RequestKey(route: route, decision: decision, reason: reason)
            if let existing = counters[key] { return existing }
            if counters.count >= Self.maximumLabelSets {
                key = RequestKey(route: "other", decision: decision, reason: reason)
                if let existing = counters[key] { return existing }
            }
            let created = Counter(
                label: "portcullis_requests_total",
                dimensions: [("route", key.route), ("decision", key.decision), ("reason", key.reason)],
                factory: factory
            )
            counters[key] = created
            return created
        }
        counter.increment()
        let timer = latencyTimers.withLock { timers in
            var key = LatencyKey(route: route, decision: decision)
            if let existing = timers[key] { return existing }
            if timers.count >= Self.maximumLabelSets {
                key = LatencyKey(route: "other", decision: decision)
                if let existing = timers[key] { return existing }
            }
            let created = Timer(
                label: Self.requestDurationLabel,
                dimensions: [("route", key.route), ("decision", key.decision)],
                factory: factory
            )
            timers[key] = created
            return created
        }
        timer.recordNanoseconds(max(0, durationNanoseconds))
    }

    /// The value itself when `isAllowed` accepts it, else `other`.
    static func labelValue(_ value: String, allowing isAllowed: (String) -> Bool) -> String {
        isAllowed(value) ? value : "other"
    }

    /// Reason codes and decisions: `ip_not_greenlisted`, `allow`; `-` when there is none.
    static func isCode(_ value: String) -> Bool {
        value == "-" || (1...48).contains(value.utf8.count)
            && value.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    /// Route names as the configuration allows them (letters, digits, `-`, `_`, `.`); `-`
    /// when no route matched.
    static func isRouteName(_ value: String) -> Bool {
        (1...64).contains(value.utf8.count) && value.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".")
        }
    }

    /// `kind`: `unavailable`, `timeout`, `reset`.
    package func recordUpstreamError(route: String, kind: String) {
        let key = RequestKey(route: route, decision: kind, reason: "")
        let counter = upstreamErrorCounters.withLock { counters in
            if let existing = counters[key] { return existing }
            let created = Counter(label: "portcullis_upstream_errors_total", dimensions: [("route", route), ("kind", kind)], factory: factory)
            counters[key] = created
            return created
        }
        counter.increment()
    }

    /// Counts a new client connection; answers false when over `limit` (the caller closes it).
    package func connectionOpened(limit: Int) -> Bool {
        let count = connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        if count > limit {
            connectionCount.wrappingSubtract(1, ordering: .relaxed)
            refusedConnections.increment()
            return false
        }
        acceptedConnections.increment()
        openConnections.record(count)
        return true
    }

    package func connectionClosed() {
        let count = connectionCount.wrappingSubtract(1, ordering: .relaxed).newValue
        openConnections.record(count)
    }

    package var currentConnections: Int { connectionCount.load(ordering: .relaxed) }
}
