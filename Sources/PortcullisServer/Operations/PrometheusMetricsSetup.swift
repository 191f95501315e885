import PortcullisDataPath
import Prometheus

/// The Prometheus side of the metrics: histogram buckets that fit what each histogram
/// measures. The executable bootstraps the metrics system with this factory; tests use it on a
/// registry of their own.
package enum PrometheusMetricsSetup {
    /// Requests: a millisecond at the gateway to a minute at a slow upstream.
    package static let requestBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]
    /// Store operations: a point read in SQLite takes tens of microseconds.
    package static let storeBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
    ]
    /// Revocation propagation: the target is under one second, the bound five minutes.
    package static let propagationBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    package static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            GatewayMetrics.requestDurationLabel: requestBuckets,
            StoreOperationMetrics.label: storeBuckets,
            SessionMetrics.revocationPropagationLabel: propagationBuckets,
        ]
        return factory
    }
}
