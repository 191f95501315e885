import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 6 (8400d5b). Since round 5 a sign-out by cookie takes
/// a ticket of the credential lookup gate, like a lookup of a session this instance has not
/// seen, even when the session is live and cached here; and the gate's bounds are sized to the
/// store's pool, 8 connections by default, which leaves lookups of tagged sessions 2 at once
/// per instance.
@Suite("Review round 6: sign-outs and first lookups under the gate")
struct ReviewRound6AttackTests {
    static func status(_ page: TestBrowser.Page) -> String {
        "\(page.status.code) \(page.headers.first(name: "x-portcullis-reason") ?? "")"
    }

    /// A person signed in shares an address with an anonymous attacker (an office NAT, a
    /// carrier's CGNAT, an IPv6 /64). The attacker sends a steady stream of requests with
    /// made-up cookies of the shape made before tags (43 characters, so no tag is checked),
    /// sixteen at a time: each is a lookup that takes a ticket, and the gate counts a client's
    /// lookups together, tagged or not (4 at once). The person's session is live and in this
    /// instance's cache, so browsing never needs a ticket, but since 8400d5b signing out does:
    /// whenever the attacker holds the address's four, the sign-out is refused (503, "you are
    /// still signed in"). Nothing here is slow; the store is a local PostgreSQL.
    @Test("an anonymous flood of made-up cookies from a shared address does not stop a signed-in user there from signing out",
          .timeLimit(.minutes(2)))
    func sharedAddressFloodBlocksSignOut() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let harness = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 60s", postgresURL: url, serverExtra: "  trusted_proxies: [127.0.0.1/32]"
        )
        defer { Task { await harness.stop() } }
        var cookies: [String] = []
        for _ in 0..<6 {
            let (signedIn, _) = try await harness.signedIn()
            cookies.append(try #require(signedIn.cookie("__Host-portcullis", for: harness.origin)))
            await signedIn.shutdown()
        }
        let shared = "198.51.100.7"
        let flood = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        let attacker = try harness.browser()
                        defer { Task { await attacker.shutdown() } }
                        var sent = 0
                        while !Task.isCancelled {
                            _ = try? await attacker.request(harness.url("/echo"), headers: [
                                ("Cookie", "__Host-portcullis=\(CredentialFloodTests.randomCookie())"), ("X-Forwarded-For", shared),
                            ], accept: "application/json")
                            sent += 1
                        }
                        return sent
                    }
                }
                var sent = 0
                for try await count in group { sent += count }
                return sent
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let victim = try harness.browser()
        defer { Task { await victim.shutdown() } }
        var answers: [String] = []
        for cookie in cookies {
            let page = try await victim.request(
                harness.url("/_portcullis/logout"), method: .POST,
                headers: [("Origin", harness.origin), ("Cookie", "__Host-portcullis=\(cookie)"), ("X-Forwarded-For", shared)], form: [:]
            )
            answers.append(Self.status(page))
        }
        flood.cancel()
        let sent = try await flood.value
        #expect(answers.allSatisfy { $0.hasPrefix("303") },
                "sign-outs behind an address an anonymous flood shares answered \(answers) (\(sent) made-up cookies sent)")
    }

    /// Three sessions signed in on one instance, used on another that has not seen them (a
    /// second instance behind the load balancer, or one just restarted), each from its own
    /// address, at once, while the store is slow (here `group_members` is locked for a
    /// second; in the field a few milliseconds of latency and a busy instance do the same).
    /// With the default pool of 8, the gate allows 2 lookups of tagged sessions at once
    /// (8 - 4 - 2), where it allowed 6 before 592ef97 and 8400d5b: the third person is refused
    /// `session_unverifiable`, a browser sent to sign in again. Nobody attacks here.
    @Test("three signed-in people whose sessions an instance has not seen are all let in at once, on the default pool",
          .timeLimit(.minutes(2)))
    func threeFirstLookupsAtOnce() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let one = try await SSOHarness.start(postgresURL: url)
        let two = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 60s", postgresURL: url,
            serverExtra: "  trusted_proxies: [127.0.0.1/32]", store: "  request_deadline: 4s"
        )
        defer { Task { await one.stop(); await two.stop() } }
        var cookies: [String] = []
        for email in ["ada@example.com", "grace@example.com", "sam@example.com"] {
            let (signedIn, _) = try await one.signedIn(email)
            cookies.append(try #require(signedIn.cookie("__Host-portcullis", for: one.origin)))
            await signedIn.shutdown()
        }
        let lock = try cluster.startSQL(
            "BEGIN; LOCK TABLE group_members IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;", database: database
        )
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(300))
        let statuses = try await withThrowingTaskGroup(of: String.self) { group in
            for (index, cookie) in cookies.enumerated() {
                group.addTask {
                    let browser = try two.browser()
                    defer { Task { await browser.shutdown() } }
                    let page = try await browser.request(two.url("/echo"), headers: [
                        ("Cookie", "__Host-portcullis=\(cookie)"), ("X-Forwarded-For", "198.51.100.\(10 + index)"),
                    ], accept: "application/json")
                    return Self.status(page)
                }
            }
            var statuses: [String] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(statuses.allSatisfy { $0.hasPrefix("200") }, "signed-in people refused on their first request to an instance: \(statuses)")
    }
}
}
