import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Prometheus
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 4 (81e1825): tagged lookups are bounded per client (4
/// at once per IPv4 address or IPv6 /64) and by nothing overall, and concurrent lookups of one
/// credential are not joined. A signed-out cookie sent from many /64s of one /48 (behind the
/// trusted proxy here, as X-Forwarded-For) reads the store once per request.
@Suite("Credential tags: one signed-out cookie from many /64s (review round 4)")
struct CredentialTagRound4AttackTests {
    @Test("a flood of one signed-out (tagged) cookie from 40 /64s of one /48, with the sessions table locked: at most a bounded number of reads",
          .timeLimit(.minutes(2)))
    func signedOutCookieFromManySixtyFours() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let registry = PrometheusCollectorRegistry()
        let (harness, root, database) = try await CredentialFloodTests.start(cluster, registry: registry)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let tokenClient = try await CredentialFloodTests.unusedTokenClient(harness, root: root)
        defer { Task { await tokenClient.shutdown() } }

        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        let cookie = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        let out = try await browser.request(harness.url("/_portcullis/logout"), method: .POST, headers: [("Origin", harness.origin)], form: [:])
        #expect(out.status == .seeOther)

        let reads = { try await MetricsTests.Scrape.of(harness).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }
        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))

        let readsBefore = try await reads()
        let flood = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let attacker = try harness.browser()
                        defer { Task { await attacker.shutdown() } }
                        let page = try await attacker.request(
                            harness.url("/echo"),
                            headers: [("Cookie", "__Host-portcullis=\(cookie)"), ("X-Forwarded-For", "2001:db8:42:\(String(index, radix: 16))::7")],
                            accept: "application/json"
                        )
                        return Int(page.status.code)
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
        }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        let me = try await tokenClient.call(.GET, "/me")
        let took = ContinuousClock.now - started
        let statuses = try await flood.value
        try await Task.sleep(for: .seconds(6))
        let readsAfter = try await reads()
        #expect(me.status == .ok, "the admin API was starved by one signed-out cookie: \(me.status) \(me.reason ?? "")")
        #expect(took < .seconds(1), "the admin API waited \(took) behind one signed-out cookie")
        #expect(readsAfter - readsBefore <= 8, "one signed-out cookie from 40 /64s cost \(readsAfter - readsBefore) session reads at once; answers \(statuses)")
    }

    /// A browser opens six connections (or many HTTP/2 streams) at once. On an instance that has
    /// not read the session yet (a second instance behind the load balancer, or after a
    /// restart), each request with the user's own live tagged cookie needs a lookup: before the
    /// lookups were shared, the fifth was refused `session_unverifiable` (4 tagged lookups at
    /// once per client). Now the eight share one read.
    @Test("a browser's eight parallel requests to an instance that has not seen its session: all pass, one read",
          .timeLimit(.minutes(2)))
    func browserParallelRequestsOnAnotherInstance() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let registry = PrometheusCollectorRegistry()
        let one = try await SSOHarness.start(postgresURL: url)
        let two = try await SSOHarness.start(postgresURL: url, metrics: registry, store: "  request_deadline: 4s")
        defer { Task { await one.stop(); await two.stop() } }
        let (signedIn, _) = try await one.signedIn()
        defer { Task { await signedIn.shutdown() } }
        let cookie = try #require(signedIn.cookie("__Host-portcullis", for: one.origin))
        let reads = { try await MetricsTests.Scrape.of(two).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }
        let readsBefore = try await reads()

        // The sessions table held for a second: every request arrives while the lookup waits.
        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(300))
        let statuses = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let browser = try two.browser()
                    defer { Task { await browser.shutdown() } }
                    let page = try await browser.request(two.url("/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie)")], accept: "application/json")
                    return "\(page.status.code) \(page.headers.first(name: "x-portcullis-reason") ?? "")"
                }
            }
            var statuses: [String] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(statuses.allSatisfy { $0.hasPrefix("200") }, "\(statuses)")
        let readsDuring = try await reads() - readsBefore
        #expect(readsDuring == 1, "eight requests with one cookie read the session \(readsDuring) times")
    }
}
}
