import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing
import PortcullisDataPath

extension ServerTests {
/// Two gateway instances on one PostgreSQL (SPEC §3, §8): revocations reach the other instance
/// in well under a second; a lost database fails closed and recovers by itself.
@Suite("Several instances on PostgreSQL")
struct MultiInstanceTests {
    static func cluster() async throws -> TestPostgres {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        return try await TestPostgres.start()
    }

    /// A browser for instance `to` holding the session cookie `browser` got from `from` (both
    /// instances share the session store; a load balancer would send the cookie to either).
    static func sameSession(_ browser: TestBrowser, from: SSOHarness, on to: SSOHarness) throws -> TestBrowser {
        let cookie = try #require(browser.cookie(SessionCookie.name, for: from.url("/")))
        let other = try to.browser()
        other.setCookie(SessionCookie.name, cookie, for: to.url("/"))
        return other
    }

    /// How long until `browser`'s session is refused on `instance` (sent to the login), polled
    /// every 10 ms for at most 5 s; `nil` if it never is.
    static func timeUntilRefused(_ browser: TestBrowser, on instance: SSOHarness) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(5) {
            let page = try await browser.request(instance.url("/echo"))
            if page.status == .found, page.location?.contains("/_portcullis/login") == true {
                return ContinuousClock.now - start
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test("sign-out-all on one instance: the other refuses the session in under a second")
    func revocationReachesTheOtherInstance() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let one = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, scimToken: SCIMTests.token)
        let two = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, scimToken: SCIMTests.token)
        try await AdminAPITests.bootstrap(one)
        let root = try await AdminClient.signIn(one, as: "root@example.com")
        let (samOnOne, _) = try await one.signedIn("sam@example.com")
        let sam = try Self.sameSession(samOnOne, from: one, on: two)
        #expect(try await sam.request(two.url("/echo")).status == .ok)
        #expect(try await sam.request(two.url("/echo")).status == .ok)

        let out = try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}")
        #expect(out.status == .ok, "\(out.body)")
        let refused = try await Self.timeUntilRefused(sam, on: two)
        let elapsed = try #require(refused, "instance two never refused the revoked session")
        #expect(elapsed < .seconds(1))

        // A role change on one instance applies to the next request on the other.
        let grace = try await AdminClient.signIn(one, as: "grace@example.com")
        let graceOnTwo = try Self.sameSession(grace.browser, from: one, on: two)
        #expect(try await graceOnTwo.request(two.url("/answers/moderate")).status == .forbidden)
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        var allowed = false
        for _ in 0..<100 where !allowed {
            allowed = try await graceOnTwo.request(two.url("/answers/moderate")).status == .ok
            if !allowed { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(allowed)

        // SCIM deprovisioning on instance one ends Grace's session on instance two at once.
        // (Sam is made an admin too: SCIM may not deactivate the last holder of a role.)
        #expect(try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        let scimBrowser = try one.browser()
        defer { Task { await scimBrowser.shutdown() } }
        let scim = SCIMTests.Client(harness: one, browser: scimBrowser)
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let deactivated = try await scim.call(.PATCH, "/Users/\(graceID)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}
            """)
        #expect(deactivated.status == .ok, "\(deactivated.body)")
        let deprovisioned = ContinuousClock.now
        var ended: Duration?
        while ContinuousClock.now - deprovisioned < .seconds(5) {
            if try await graceOnTwo.request(two.url("/answers/moderate")).status != .ok {
                ended = ContinuousClock.now - deprovisioned
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let endedAfter = try #require(ended, "instance two kept the deprovisioned user's session")
        #expect(endedAfter < .seconds(1))

        await root.shutdown()
        await grace.shutdown()
        await graceOnTwo.shutdown()
        await sam.shutdown()
        await samOnOne.shutdown()
        await one.stop()
        await two.stop()
    }

    /// Issue 28 item 4: many instances share PostgreSQL through PgBouncer in transaction mode
    /// (Debian's `pgbouncer`), which cannot hold a LISTEN: queries go through it and each
    /// instance listens on the server itself (`store.postgres.listen_url_file`).
    @Test("through PgBouncer in transaction mode, LISTEN direct: sign-in, admin API and SCIM work, and sign-out-all on one instance reaches the other in under a second")
    func throughPgBouncer() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        try #require(TestPgBouncer.isInstalled, "PgBouncer is not installed (scripts/setup-debian installs it)")
        let direct = try cluster.createDatabase()
        let database = String(direct.split(separator: "/").last?.split(separator: "?").first ?? "")
        let bouncer = try await TestPgBouncer.start(in: cluster, poolSize: 4)
        let one = try await SSOHarness.start(
            routes: AdminAPITests.routes, postgresURL: bouncer.url(database: database), postgresListenURL: direct, scimToken: SCIMTests.token
        )
        let two = try await SSOHarness.start(
            routes: AdminAPITests.routes, postgresURL: bouncer.url(database: database), postgresListenURL: direct, scimToken: SCIMTests.token
        )
        try await AdminAPITests.bootstrap(one)
        let root = try await AdminClient.signIn(one, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let (samOnOne, _) = try await one.signedIn("sam@example.com")
        defer { Task { await samOnOne.shutdown() } }
        let sam = try Self.sameSession(samOnOne, from: one, on: two)
        defer { Task { await sam.shutdown() } }
        #expect(try await sam.request(two.url("/echo")).status == .ok)

        // Every query went through PgBouncer: the server sees its pool (at most 4 connections)
        // and the two listeners, nothing else.
        let listeners = try cluster.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'", database: database
        )
        #expect(listeners == "2", "listeners at the server: \(listeners)")
        let others = try Int(cluster.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query NOT LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
            database: database
        )) ?? -1
        #expect((0...4).contains(others), "server connections besides the listeners: \(others)")

        let out = try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}")
        #expect(out.status == .ok, "\(out.body)")
        let refused = try await Self.timeUntilRefused(sam, on: two)
        #expect(refused != nil, "instance two never refused the revoked session")
        #expect(refused.map { $0 < .seconds(1) } ?? false, "\(String(describing: refused))")
        // Stopped here, not deferred: PgBouncer must be gone before the suite's leak check.
        await one.stop()
        await two.stop()
        await bouncer.stop()
    }

    /// Deprovisioning stays instant on every instance (issue 13): removal from a group that
    /// carried a role, and DELETE, on instance one end access on instance two at once.
    @Test("SCIM group removal and user deletion on one instance apply on the other in under a second")
    func scimReachesTheOtherInstance() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let one = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, scimToken: SCIMTests.token)
        let two = try await SSOHarness.start(routes: AdminAPITests.routes, postgresURL: url, scimToken: SCIMTests.token)
        let scimBrowser = try one.browser()
        defer { Task { await scimBrowser.shutdown() } }
        let scim = SCIMTests.Client(harness: one, browser: scimBrowser)
        let (graceOnOne, _) = try await one.signedIn("grace@example.com")
        let grace = try Self.sameSession(graceOnOne, from: one, on: two)
        defer {
            Task {
                await scimBrowser.shutdown()
                await grace.shutdown()
                await graceOnOne.shutdown()
                await one.stop()
                await two.stop()
            }
        }
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let group = try #require(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Moderators","members":[{"value":"\#(graceID)"}]}"#)["id"] as? String)
        _ = try await one.store.changeGroupRoles(
            name: "Moderators", source: .scim, audit: AuditContext(actor: "test", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        ) { _ in .success(RoleAssignment(secondary: [.answersModerator])) }
        var allowed = false
        for _ in 0..<200 where !allowed {
            allowed = try await grace.request(two.url("/answers/moderate")).status == .ok
            if !allowed { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(allowed, "the mapping never reached instance two")

        let removal = try await scim.patch("/Groups/\(group)", #"[{"op":"remove","path":"members[value eq \"\#(graceID)\"]"}]"#)
        #expect(removal.status == .noContent, "\(removal.status) \(removal.body)")
        let removed = ContinuousClock.now
        var refusedAfter: Duration?
        while ContinuousClock.now - removed < .seconds(5) {
            if try await grace.request(two.url("/answers/moderate")).status == .forbidden {
                refusedAfter = ContinuousClock.now - removed
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = try #require(refusedAfter, "instance two kept the role of a removed member")
        #expect(elapsed < .seconds(1))
        #expect(try await grace.request(two.url("/echo")).status == .ok)

        #expect(try await scim.call(.DELETE, "/Users/\(graceID)").status == .noContent)
        let deleted = ContinuousClock.now
        var endedAfter: Duration?
        while ContinuousClock.now - deleted < .seconds(5) {
            if try await grace.request(two.url("/echo"), accept: "application/json").status == .unauthorized {
                endedAfter = ContinuousClock.now - deleted
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let ended = try #require(endedAfter, "instance two kept a deleted user's session")
        #expect(ended < .seconds(1))
    }

    @Test("PostgreSQL stops: cached sessions fail closed after max_staleness with a reason; service resumes when it returns")
    func databaseOutage() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let sessions = """
        sessions:
          max_staleness: 1s
        """
        let gateway = try await SSOHarness.start(sessions: sessions, postgresURL: url)
        let (browser, _) = try await gateway.signedIn("sam@example.com")
        #expect(try await browser.request(gateway.url("/echo")).status == .ok)

        try cluster.stopServer()
        // Within max_staleness the cached session still answers...
        #expect(try await browser.request(gateway.url("/echo")).status == .ok)
        // ...after it, the session cannot be re-checked: refused, and the answer says why.
        try await Task.sleep(for: .milliseconds(1_200))
        let refused = try await browser.request(gateway.url("/echo"), accept: "application/json")
        #expect(refused.status != .ok)
        #expect(refused.body.contains("session_unverifiable"), "\(refused.status) \(refused.body)")
        #expect(refused.headers.first(name: "x-portcullis-reason") == "session_unverifiable")
        let stranger = try gateway.browser()
        #expect(try await stranger.request(gateway.url("/public/x")).status == .ok, "public routes need no store")
        await stranger.shutdown()

        try await cluster.startServer()
        var recovered: Duration?
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(20) {
            if try await browser.request(gateway.url("/echo")).status == .ok {
                recovered = ContinuousClock.now - start
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(recovered != nil, "service did not resume after PostgreSQL came back")
        await browser.shutdown()
        await gateway.stop()
    }
}
}
