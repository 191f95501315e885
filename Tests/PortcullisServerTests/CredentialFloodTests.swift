import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Prometheus
import Testing

extension ServerTests {
/// Nobody can make the gateway exhaust its store without being anyone (issue 21 item 5): the
/// tenant greenlist is checked before any credential is looked up, unknown credentials are
/// remembered as misses, a credential with a made-up tag is never looked up, and lookups of
/// untagged credentials this instance has never seen are bounded per client address and overall. Before, every random cookie cost a store read that waited for a pool
/// connection, so a flood from one address queued ahead of everyone else's reads.
@Suite("Unknown credentials cannot exhaust the store")
struct CredentialFloodTests {
    static let routes = SSOHarness.defaultRoutes

    /// A session-shaped random cookie value, as a flood would send: 32 random bytes (43
    /// base64url characters, the shape of an id made before tags), or 48 (64 characters, the
    /// shape of a tagged id, with a tag nobody made).
    static func randomCookie(tagged: Bool = false) -> String {
        Data((0..<(tagged ? 48 : 32)).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func start(_ cluster: TestPostgres, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) async throws
        -> (SSOHarness, AdminClient, database: String)
    {
        let url = try cluster.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let harness = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 60s", postgresURL: url, metrics: registry,
            serverExtra: "  trusted_proxies: [127.0.0.1/32]", store: "  request_deadline: 1500ms"
        )
        try await AdminAPITests.bootstrap(harness)
        return (harness, try await AdminClient.signIn(harness, as: "root@example.com"), database)
    }

    /// The admin API's caller during a flood: a global API token not used yet, so that its
    /// lookup reads `api_tokens` through the pool the flood would take.
    static func unusedTokenClient(_ harness: SSOHarness, root: AdminClient) async throws -> AdminClient {
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"ops","scope":"global","expires_in_days":1}"#)
        let secret = try #require(created["secret"] as? String, "\(created.body)")
        return try AdminClient.bearer(harness, secret)
    }

    /// `count` requests at once, each with its own random session cookie, from `client` (behind
    /// the trusted proxy on 127.0.0.1): each answer's status, reason and time.
    static func flood(_ harness: SSOHarness, count: Int, from client: String, tagged: Bool = false) async throws
        -> [(status: Int, reason: String, elapsed: Duration)]
    {
        try await withThrowingTaskGroup(of: (Int, String, Duration).self) { group in
            for _ in 0..<count {
                group.addTask {
                    let browser = try harness.browser()
                    defer { Task { await browser.shutdown() } }
                    let started = ContinuousClock.now
                    let page = try await browser.request(
                        harness.url("/echo"), headers: [("Cookie", "__Host-portcullis=\(randomCookie(tagged: tagged))"), ("X-Forwarded-For", client)],
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

    @Test("a flood of random cookies from one address, with the sessions table locked, holds a few store connections: the admin API still answers",
          .timeLimit(.minutes(2)))
    func floodFromOneAddress() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let (harness, root, database) = try await Self.start(cluster)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let tokenClient = try await Self.unusedTokenClient(harness, root: root)
        defer { Task { await tokenClient.shutdown() } }

        // Another client holds the sessions table: every lookup of a session waits on it (as on
        // a database busy with a flood of them), while other tables answer.
        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))

        let flood = Task { try await Self.flood(harness, count: 40, from: "198.51.100.7") }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        let me = try await tokenClient.call(.GET, "/me")
        let took = ContinuousClock.now - started
        #expect(me.status == .ok, "the admin API was starved by the flood: \(me.status) \(me.reason ?? "")")
        #expect(took < .seconds(1), "the admin API waited \(took) behind the flood")

        let answers = try await flood.value
        #expect(answers.count == 40)
        #expect(answers.allSatisfy { $0.status == 503 && $0.reason == ReasonCode.sessionUnverifiable.rawValue }, "\(answers.map(\.status))")
        // Past the bound, refused at once rather than queued.
        let atOnce = answers.filter { $0.elapsed < .milliseconds(700) }.count
        #expect(atOnce >= 30, "only \(atOnce) of 40 were refused at once")
    }

    @Test("a flood from many addresses (untagged cookies from four IPv4 addresses and one IPv6 /64, cookies with made-up tags) never refuses a credential the gateway made",
          .timeLimit(.minutes(2)))
    func floodFromManyAddresses() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let registry = PrometheusCollectorRegistry()
        let (harness, root, database) = try await Self.start(cluster, registry: registry)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let tokenClient = try await Self.unusedTokenClient(harness, root: root)
        defer { Task { await tokenClient.shutdown() } }
        let reads = { try await MetricsTests.Scrape.of(harness).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }

        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))

        // Made-up tags first: refused at once, none of them read the store.
        let readsBefore = try await reads()
        let forged = try await Self.flood(harness, count: 20, from: "198.51.100.20", tagged: true)
        #expect(forged.allSatisfy { $0.status == 401 && $0.reason == ReasonCode.sessionExpired.rawValue }, "\(forged)")
        #expect(forged.allSatisfy { $0.elapsed < .milliseconds(700) }, "\(forged.map(\.elapsed))")
        #expect(try await reads() == readsBefore, "a cookie with a made-up tag was looked up")

        // Untagged ones from more addresses than the overall bound needs: they take every ticket.
        let sources = ["198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10", "2001:db8:7:7::1", "2001:db8:7:7::2"]
        let floods = sources.map { source in Task { try await Self.flood(harness, count: 10, from: source) } }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        let me = try await tokenClient.call(.GET, "/me")
        let took = ContinuousClock.now - started
        var answers: [(status: Int, reason: String, elapsed: Duration)] = []
        for flood in floods { answers += try await flood.value }
        #expect(me.status == .ok, "an API token the gateway made was refused during the flood: \(me.status) \(me.reason ?? "")")
        #expect(took < .seconds(1), "the API token's lookup waited \(took) behind the flood")
        #expect(answers.allSatisfy { $0.status == 503 && $0.reason == ReasonCode.sessionUnverifiable.rawValue }, "\(answers.map(\.status))")
    }

    @Test("outside the tenant greenlist a cookie is not looked up: refused at once even with the sessions table locked")
    func tenantGreenlistFirst() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let (harness, root, database) = try await Self.start(cluster)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let loopback = #"{"entries":[{"cidr":"127.0.0.0/8","label":"loopback"}]}"#
        #expect(try await root.call(.PUT, "/greenlists/inside", json: loopback).status == .ok)
        #expect(try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"inside"}"#).status == .ok)

        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))
        let answers = try await Self.flood(harness, count: 10, from: "203.0.113.9")
        for answer in answers {
            #expect(answer.status == 403 && answer.reason == ReasonCode.ipNotGreenlisted.rawValue, "\(answer)")
            #expect(answer.elapsed < .milliseconds(800), "an address outside the tenant greenlist waited \(answer.elapsed) on a session lookup")
        }
    }

    @Test("an unknown cookie sent again is answered from memory: one store read for many requests")
    func missesAreRemembered() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let registry = PrometheusCollectorRegistry()
        let (harness, root, _) = try await Self.start(cluster, registry: registry)
        defer { Task { await root.shutdown(); await harness.stop() } }
        let reads = { try await MetricsTests.Scrape.of(harness).value(
            "portcullis_store_operation_duration_seconds_count", ["operation": "read_session_identity"]) ?? 0 }
        let cookie = Self.randomCookie()
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let before = try await reads()
        for _ in 0..<5 {
            let page = try await browser.request(harness.url("/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie)")], accept: "application/json")
            #expect(page.status == .unauthorized)
            #expect(page.headers.first(name: "x-portcullis-reason") == ReasonCode.sessionExpired.rawValue)
        }
        #expect(try await reads() - before == 1, "every request with the same unknown cookie read the store")
    }
}
}
