import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Prometheus
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 5 (7180561). Anyone may POST `/_portcullis/logout`
/// with any well-formed cookie (the CSRF check reads `Origin`, which a non-browser client sets
/// at will): each such request is a store write (an UPDATE that matches nothing) and an
/// eviction from the session cache. An eviction, of any session, moves the cache's
/// generation, and since round 4 a session read that overlaps one is not kept in the cache.
@Suite("Review round 5: anonymous sign-outs of made-up cookies")
struct ReviewRound5AttackTests {
    /// One signed-in browser's request to an instance that has not seen its session, its store
    /// read held up (a slow store; here `group_members` is locked, which a sign-out does not
    /// touch), and one anonymous sign-out of a made-up cookie while it waits: the request
    /// passes, but the session is not kept in the cache.
    static func firstRequest(_ cookie: String, on two: SSOHarness, _ cluster: TestPostgres, database: String, attack: Bool) async throws -> String {
        let lock = try cluster.startSQL(
            "BEGIN; LOCK TABLE group_members IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT;", database: database
        )
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(200))
        let user = Task {
            let browser = try two.browser()
            defer { Task { await browser.shutdown() } }
            let page = try await browser.request(two.url("/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie)")], accept: "application/json")
            return "\(page.status.code) \(page.headers.first(name: "x-portcullis-reason") ?? "")"
        }
        try await Task.sleep(for: .milliseconds(100))
        if attack {
            let attacker = try two.browser()
            defer { Task { await attacker.shutdown() } }
            let out = try await attacker.request(
                two.url("/_portcullis/logout"), method: .POST,
                headers: [("Origin", two.origin), ("Cookie", "__Host-portcullis=\(CredentialFloodTests.randomCookie())")], form: [:]
            )
            #expect(out.status == .seeOther, "the anonymous sign-out answered \(out.status)")
        }
        return try await user.value
    }

    /// Five people behind one address (an office's NAT) signed in on one instance use another
    /// that has not seen their sessions (a second instance behind the load balancer, or after
    /// a restart). Each one's first request there reads the session and keeps it; afterwards,
    /// even while the store is slow, their requests are answered from the cache. An anonymous
    /// sign-out of a made-up cookie during each first read (an attacker sends them in a
    /// stream, not knowing when reads happen) keeps every session out of the cache: every
    /// later request is a lookup of an unknown tagged session, bounded at 4 at once per
    /// client and 6 overall, and the fifth of five at once is refused `session_unverifiable`.
    @Test("sessions read while an anonymous sign-out of a made-up cookie lands are not cached: five users behind one address are refused later",
          .timeLimit(.minutes(2)))
    func anonymousSignOutsKeepSessionsOutOfTheCache() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let registry = PrometheusCollectorRegistry()
        let one = try await SSOHarness.start(postgresURL: url)
        let two = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 60s", postgresURL: url, metrics: registry, store: "  request_deadline: 4s"
        )
        defer { Task { await one.stop(); await two.stop() } }
        var cookies: [String] = []
        for _ in 0..<5 {
            let (signedIn, _) = try await one.signedIn()
            cookies.append(try #require(signedIn.cookie("__Host-portcullis", for: one.origin)))
            await signedIn.shutdown()
        }
        for cookie in cookies {
            let first = try await Self.firstRequest(cookie, on: two, cluster, database: database, attack: true)
            #expect(first.hasPrefix("200"), "\(first)")
        }
        let reads = { try await MetricsTests.Scrape.of(two).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }
        let readsBefore = try await reads()

        // The store slow again: the five at once.
        let lock = try cluster.startSQL(
            "BEGIN; LOCK TABLE group_members IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;", database: database
        )
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(300))
        let statuses = try await withThrowingTaskGroup(of: String.self) { group in
            for cookie in cookies {
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
        let readsDuring = try await reads() - readsBefore
        #expect(statuses.allSatisfy { $0.hasPrefix("200") }, "signed-in users refused after anonymous sign-outs: \(statuses)")
        #expect(readsDuring == 0, "five sessions read once each were read \(readsDuring) more times")
    }

    /// Forty anonymous sign-outs of made-up cookies at once, with the sessions table locked (a
    /// slow store): each holds one of the pool's 16 connections for its UPDATE, and nothing
    /// bounds them, unlike the lookups of made-up cookies (at most 8 at once, 2 connections
    /// always left). A global API token's admin API call waits behind them.
    @Test("forty anonymous sign-outs of made-up cookies at once, with the sessions table locked: the admin API still answers at once",
          .timeLimit(.minutes(2)))
    func anonymousSignOutFloodHoldsThePool() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let (harness, root, database) = try await CredentialFloodTests.start(cluster)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let tokenClient = try await CredentialFloodTests.unusedTokenClient(harness, root: root)
        defer { Task { await tokenClient.shutdown() } }

        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))
        let flood = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let attacker = try harness.browser()
                        defer { Task { await attacker.shutdown() } }
                        let out = try await attacker.request(
                            harness.url("/_portcullis/logout"), method: .POST,
                            headers: [
                                ("Origin", harness.origin), ("Cookie", "__Host-portcullis=\(CredentialFloodTests.randomCookie())"),
                                ("X-Forwarded-For", "2001:db8:42:\(String(index, radix: 16))::7"),
                            ],
                            form: [:]
                        )
                        return Int(out.status.code)
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
        #expect(me.status == .ok, "the admin API was starved by anonymous sign-outs: \(me.status) \(me.reason ?? ""); sign-outs answered \(statuses)")
        #expect(took < .seconds(1), "the admin API waited \(took) behind anonymous sign-outs; they answered \(statuses)")
    }
}
}
