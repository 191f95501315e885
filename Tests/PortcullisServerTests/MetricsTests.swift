import AsyncHTTPClient
import Foundation
import MetricsTestKit
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Prometheus
import Testing
import PortcullisDataPath

extension ServerTests {
/// The metrics SPEC §9 names, scraped from `/metrics` on the internal listener as Prometheus
/// would: requests by route and decision, active sessions, store latency, and revocation
/// propagation across two instances on PostgreSQL.
@Suite("Metrics")
struct MetricsTests {
    /// One scrape, as `name{labels} value` lines.
    struct Scrape {
        let text: String

        static func of(_ harness: SSOHarness) async throws -> Scrape {
            let port = try #require(harness.internalPort)
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { Task { try? await client.shutdown() } }
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            #expect(response.status == .ok)
            return Scrape(text: String(buffer: try await response.body.collect(upTo: 4 << 20)))
        }

        /// The value of the series `name` whose labels include every one of `labels`, summed
        /// over the others.
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            var total: Double?
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                let series = line[..<space]
                let seriesName = series.prefix { $0 != "{" }
                guard seriesName == name else { continue }
                let labelText = series.dropFirst(seriesName.count)
                guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
                total = (total ?? 0) + value
            }
            return total
        }
    }

    @Test("requests by route and decision, active sessions and store latency over the internal listener")
    func requestsSessionsAndStore() async throws {
        let registry = PrometheusCollectorRegistry()
        let harness = try await SSOHarness.start(metrics: registry)
        defer { Task { await harness.stop() } }
        let (browser, page) = try await harness.signedIn("ada@example.com")
        defer { Task { await browser.shutdown() } }
        #expect(page.status == .ok)
        #expect(try await browser.request(harness.url("/echo")).status == .ok)
        let before = try await Scrape.of(harness)
        let anonymous = try harness.browser()
        defer { Task { await anonymous.shutdown() } }
        #expect(try await anonymous.request(harness.url("/echo"), accept: "application/json").status == .unauthorized)
        await harness.assembly.activeSessionsSampler.sample()

        let scrape = try await Scrape.of(harness)
        func added(_ name: String, _ labels: [String: String]) -> Double {
            (scrape.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0)
        }
        #expect(scrape.value("portcullis_active_sessions") == 1, "\(scrape.text)")
        // Counted by route, decision and reason; latency by route and decision.
        #expect((scrape.value("portcullis_requests_total", ["route": "app", "decision": "allow", "reason": "authenticated"]) ?? 0) >= 2)
        #expect(added("portcullis_requests_total", ["route": "app", "decision": "unauthenticated", "reason": "login_required"]) == 1)
        #expect((scrape.value("portcullis_request_duration_seconds_count", ["route": "app", "decision": "allow"]) ?? 0) >= 2)
        #expect(added("portcullis_request_duration_seconds_count", ["route": "app", "decision": "unauthenticated"]) == 1)
        #expect(scrape.text.contains("portcullis_request_duration_seconds_bucket{route=\"app\",decision=\"allow\",le=\"0.001\"}"))
        // Every store operation is timed, by name.
        for operation in ["record_login", "insert_session", "read_session_identity", "count_active_sessions"] {
            #expect((scrape.value("portcullis_store_operation_duration_seconds_count", ["operation": operation]) ?? 0) >= 1, "\(operation)")
        }
        // Buckets fit each histogram: store operations from 50 µs.
        #expect(scrape.text.contains("portcullis_store_operation_duration_seconds_bucket{operation=\"read_session_identity\",le=\"0.00005\"}"))

        // The Grafana dashboard in conf/ charts these metrics and no others. (Upstream and store
        // errors appear once one happened.)
        let dashboard = try String(contentsOfFile: FixturePaths.repositoryRoot + "/conf/grafana-dashboard.json", encoding: .utf8)
        #expect(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) is [String: Any])
        let charted = Set(dashboard.matches(of: /portcullis_[a-z_]+/).map { String($0.output) })
        let served = Set(scrape.text.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("portcullis_") ? String(line.prefix { $0 != "{" && $0 != " " }) : nil
        })
        #expect(charted.subtracting(served).subtracting(["portcullis_upstream_errors_total", "portcullis_store_errors_total"]).isEmpty,
                "charted but never served: \(charted.subtracting(served).sorted())")
        #expect(charted.contains("portcullis_revocation_propagation_seconds_bucket"))

        // Signed out: no longer active.
        let root = try await harness.store.user(email: "ada@example.com")
        _ = try await harness.store.revokeSessions(userID: try #require(root).id, at: Date(), by: "test", reason: "test")
        await harness.assembly.activeSessionsSampler.sample()
        #expect(try await Scrape.of(harness).value("portcullis_active_sessions") == 0)
    }

    @Test("labels stay bounded: values that are not route names or codes count as other, and so do label sets past the cap")
    func labelsStayBounded() throws {
        let factory = TestMetrics()
        let metrics = GatewayMetrics(factory: factory)
        metrics.recordRequest(route: "/admin/users?id=1", decision: "allow", reason: "Bad Reason!", durationNanoseconds: 1_000)
        let odd = try factory.expectCounter("portcullis_requests_total", [("route", "other"), ("decision", "allow"), ("reason", "other")])
        #expect(odd.totalValue == 1)
        #expect(try factory.expectTimer("portcullis_request_duration_seconds", [("route", "other"), ("decision", "allow")]).values == [1_000])
        metrics.recordRequest(route: "-", decision: "bad_request", reason: "-", durationNanoseconds: 5)
        #expect(try factory.expectCounter("portcullis_requests_total", [("route", "-"), ("decision", "bad_request"), ("reason", "-")]).totalValue == 1)
        for index in 0..<(GatewayMetrics.maximumLabelSets + 100) {
            metrics.recordRequest(route: "route-\(index)", decision: "allow", reason: "public_route", durationNanoseconds: 1)
        }
        // The cap, its `other` and the connection counters (no labels).
        #expect(Set(factory.counters.map(\.dimensions.description)).count <= GatewayMetrics.maximumLabelSets + 2)
        let folded = try factory.expectCounter("portcullis_requests_total", [("route", "other"), ("decision", "allow"), ("reason", "public_route")])
        #expect(folded.totalValue >= 100)
    }

    @Test("revocation propagation: sign-out-all on one instance is measured on the other, from commit to drop")
    func revocationPropagation() async throws {
        let cluster = try await MultiInstanceTests.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let one = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, metrics: PrometheusCollectorRegistry())
        let two = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, metrics: PrometheusCollectorRegistry())
        try await AdminAPITests.bootstrap(one)
        let root = try await AdminClient.signIn(one, as: "root@example.com")
        let (samOnOne, _) = try await one.signedIn("sam@example.com")
        let sam = try MultiInstanceTests.sameSession(samOnOne, from: one, on: two)
        #expect(try await sam.request(two.url("/echo")).status == .ok)
        #expect(try await Scrape.of(two).value("portcullis_revocation_propagation_seconds_count") ?? 0 == 0)

        let out = try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}")
        #expect(out.status == .ok, "\(out.body)")
        var count = 0.0
        var scrape = try await Scrape.of(two)
        for _ in 0..<100 {
            scrape = try await Scrape.of(two)
            count = scrape.value("portcullis_revocation_propagation_seconds_count") ?? 0
            if count >= 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(count == 1, "\(scrape.text)")
        let seconds = try #require(scrape.value("portcullis_revocation_propagation_seconds_sum"))
        #expect(seconds >= 0)
        #expect(seconds < 1, "propagation took \(seconds) s")
        // The instance that made the change hears its own announcement too.
        #expect((try await Scrape.of(one).value("portcullis_revocation_propagation_seconds_count") ?? 0) >= 1)
        #expect(try await sam.request(two.url("/echo")).status == .found)

        await root.shutdown()
        await sam.shutdown()
        await samOnOne.shutdown()
        await one.stop()
        await two.stop()
    }
}
}
