import CoreMetrics
import Synchronization

/// The gateway's metrics (SPEC §9): requests by route name and decision, latency, open
/// connections, upstream errors. Labels are route names and reason codes, never raw paths.
/// Handles are created once per label set and cached.
package final class GatewayMetrics: Sendable {
    private struct RequestKey: Hashable {
        let route: String
        let decision: String
        let reason: String
    }

    private let factory: any MetricsFactory
    private let requestCounters: Mutex<[RequestKey: Counter]> = Mutex([:])
    private let latencyTimers: Mutex<[String: Timer]> = Mutex([:])
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

    /// One finished request.
    package func recordRequest(route: String, decision: String, reason: String, durationNanoseconds: Int64) {
        let key = RequestKey(route: route, decision: decision, reason: reason)
        let counter = requestCounters.withLock { counters in
            if let existing = counters[key] { return existing }
            let created = Counter(
                label: "portcullis_requests_total",
                dimensions: [("route", route), ("decision", decision), ("reason", reason)],
                factory: factory
            )
            counters[key] = created
            return created
        }
        counter.increment()
        let timer = latencyTimers.withLock { timers in
            if let existing = timers[route] { return existing }
            let created = Timer(label: "portcullis_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            timers[route] = created
            return created
        }
        timer.recordNanoseconds(durationNanoseconds)
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
