import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Prometheus
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 3 (credential tags): a tagged credential skips both
/// lookup bounds, and nothing makes concurrent lookups of one credential wait for the first.
/// So anyone who once held a session (signed out, or revoked by an admin) can send its cookie in
/// many requests at once, and every one of them reads the store until the first answer is
/// cached: the flood of issue 21 item 5 again, from one address, with one cookie.
@Suite("Credential tags: one signed-out cookie cannot exhaust the store")
struct CredentialTagFloodAttackTests {
    /// `count` requests at once from `client`, all with the same session cookie.
    static func flood(_ harness: SSOHarness, cookie: String, count: Int, from client: String) async throws
        -> [(status: Int, reason: String, elapsed: Duration)]
    {
        try await withThrowingTaskGroup(of: (Int, String, Duration).self) { group in
            for _ in 0..<count {
                group.addTask {
                    let browser = try harness.browser()
                    defer { Task { await browser.shutdown() } }
                    let started = ContinuousClock.now
                    let page = try await browser.request(
                        harness.url("/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie)"), ("X-Forwarded-For", client)],
                        accept: "application/json"
                    )
                    return (Int(page.status.code), page.headers.first(name: "x-portcullis-reason") ?? "", ContinuousClock.now - started)
                }
            }
            var answers: [(status: Int, reason: String, elapsed: Duration)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
    }

    @Test("a flood of one signed-out (tagged) session cookie from one address, with the sessions table locked: the admin API still answers",
          .timeLimit(.minutes(2)))
    func signedOutCookieFlood() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let registry = PrometheusCollectorRegistry()
        let (harness, root, database) = try await CredentialFloodTests.start(cluster, registry: registry)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let tokenClient = try await CredentialFloodTests.unusedTokenClient(harness, root: root)
        defer { Task { await tokenClient.shutdown() } }

        // The attacker: someone who signed in once, then signed out. Their cookie is 64
        // characters with the right tag.
        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        let cookie = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        #expect(cookie.utf8.count == 64)
        let out = try await browser.request(harness.url("/_portcullis/logout"), method: .POST, headers: [("Origin", harness.origin)], form: [:])
        #expect(out.status == .seeOther)

        let reads = { try await MetricsTests.Scrape.of(harness).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }
        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))

        let readsBefore = try await reads()
        let flood = Task { try await Self.flood(harness, cookie: cookie, count: 40, from: "198.51.100.7") }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        let me = try await tokenClient.call(.GET, "/me")
        let took = ContinuousClock.now - started
        let answers = try await flood.value
        // The reads end when the lock does.
        try await Task.sleep(for: .seconds(6))
        let readsAfter = try await reads()
        #expect(me.status == .ok, "the admin API was starved by one signed-out cookie: \(me.status) \(me.reason ?? "")")
        #expect(took < .seconds(1), "the admin API waited \(took) behind one signed-out cookie")
        // The bound on untagged lookups is 4 per client: a signed-out cookie should cost no more.
        #expect(readsAfter - readsBefore <= 8, "one signed-out cookie cost \(readsAfter - readsBefore) session reads at once; answers \(answers.map(\.status))")
    }
}
}
