import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Prometheus
import Synchronization
import Testing

extension ServerTests {
/// A store that hangs (its processes stopped with the sockets open, as a stalled disk or a
/// partition looks; a lock held by another process) fails requests fast (issue 21 item 2):
/// every request the store must decide is refused `session_unverifiable` within
/// `store.request_deadline`, `/readyz` turns 503 within a few seconds, and both recover when
/// the store answers again. Before, a signed-in request on PostgreSQL waited for as long as the
/// server was stopped and `/readyz` kept answering 200.
@Suite("A hung store fails fast")
struct HungStoreTests {
    /// `store.request_deadline` in these tests; not the default, so that the elapsed times show
    /// the configured value is the one that applies.
    static let deadline: Duration = .milliseconds(1_500)
    /// What a slow 2-core CI machine may add to the deadline.
    static let slack: Duration = .seconds(3)

    /// One request: its answer and how long it took.
    struct Timed {
        let page: TestBrowser.Page
        let elapsed: Duration

        var reason: String? { page.headers.first(name: "x-portcullis-reason") }
    }

    static func timed(_ operation: () async throws -> TestBrowser.Page) async throws -> Timed {
        let started = ContinuousClock.now
        let page = try await operation()
        return Timed(page: page, elapsed: ContinuousClock.now - started)
    }

    /// Refused for the hung store, within the deadline. `atTheDeadline`: and not before it (the
    /// store was asked and the configured deadline is what ended the wait). Later requests may be
    /// refused sooner: postgres-nio's pool fails waiting requests at once after 15 s without a
    /// connection (its circuit breaker), which fails closed too.
    static func expectUnverifiable(
        _ timed: Timed, status: HTTPResponseStatus = .serviceUnavailable, _ what: String, atTheDeadline: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(timed.page.status == status, "\(what): \(timed.page.status) \(timed.page.body.prefix(300))", sourceLocation: sourceLocation)
        #expect(timed.reason == ReasonCode.sessionUnverifiable.rawValue, "\(what): reason \(timed.reason ?? "none")", sourceLocation: sourceLocation)
        #expect(timed.elapsed < deadline + slack, "\(what) took \(timed.elapsed)", sourceLocation: sourceLocation)
        if atTheDeadline {
            #expect(timed.elapsed >= deadline - .milliseconds(100), "\(what) was answered after \(timed.elapsed), before the deadline",
                    sourceLocation: sourceLocation)
        }
    }

    /// Polls `/readyz` until it answers `status`; how long that took, or `nil` past `limit`.
    static func readyz(_ harness: SSOHarness, becomes status: HTTPResponseStatus, within limit: Duration) async throws -> Duration? {
        let port = try #require(harness.internalPort)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await client.shutdown() } }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < limit {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(5))
            _ = try await response.body.collect(upTo: 65_536)
            if response.status == status { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// Polls until `request` answers 200; how long that took, or `nil` after 20 s.
    static func recovers(_ request: () async throws -> TestBrowser.Page) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(20) {
            if try await request().status == .ok { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    static let routes = SSOHarness.defaultRoutes

    @Test("PostgreSQL stopped (SIGSTOP, sockets open): cookie, bearer, API token, forward-auth, admin API and SCIM are refused within the deadline; /readyz turns 503; all recover after SIGCONT",
          .timeLimit(.minutes(3)))
    func hungPostgres() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let harness = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 4s", postgresURL: url, scimToken: SCIMTests.token, metrics: PrometheusCollectorRegistry(),
            serverExtra: "  trusted_proxies: [127.0.0.1/32]", store: "  request_deadline: 1500ms"
        )
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        let api = try harness.browser()
        let scimBrowser = try harness.browser()
        let scim = SCIMTests.Client(harness: harness, browser: scimBrowser)
        defer {
            Task {
                await root.shutdown()
                await sam.shutdown()
                await api.shutdown()
                await scimBrowser.shutdown()
                await harness.stop()
            }
        }
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"deploy"}"#)
        let token = try #require(created["secret"] as? String, "\(created.body)")
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let host = "localhost:\(harness.gatewayPort)"

        func cookie(_ accept: String = "application/json") async throws -> TestBrowser.Page {
            try await sam.request(harness.url("/echo"), accept: accept)
        }
        func apiToken() async throws -> TestBrowser.Page {
            try await api.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(token)")], accept: "application/json")
        }
        func bearer() async throws -> TestBrowser.Page {
            try await api.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")], accept: "application/json")
        }
        /// Traefik's and Caddy's endpoint, as they ask it for an API client.
        func forwardAuth() async throws -> TestBrowser.Page {
            try await sam.request(harness.url("/_portcullis/forward-auth"), headers: [
                ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", host), ("X-Forwarded-Uri", "/echo"),
            ], accept: "application/json")
        }
        /// nginx's `auth_request` endpoint.
        func authRequest() async throws -> TestBrowser.Page {
            try await sam.request(harness.url("/_portcullis/auth"), headers: [("X-Original-Method", "GET"), ("X-Original-URI", "/echo")],
                                  accept: "application/json")
        }
        for (name, request) in [("cookie", { try await cookie() }), ("API token", apiToken), ("bearer JWT", bearer),
                                ("forward-auth", forwardAuth), ("auth_request", authRequest)] {
            let page = try await request()
            #expect(page.status == .ok, "\(name) before the outage: \(page.status) \(page.body.prefix(200))")
        }
        #expect(try await Self.readyz(harness, becomes: .ok, within: .seconds(10)) != nil, "never ready before the outage")
        // Root's session is read now, so for max_staleness the data path answers from its cache
        // and the admin API's own reads are what meet the hung store.
        #expect(try await root.call(.GET, "/me").status == .ok)

        try cluster.freeze()
        let frozen = ContinuousClock.now
        let readyzTurned = Task { try await Self.readyz(harness, becomes: .serviceUnavailable, within: .seconds(15)) }

        // The control plane: the caller's lookup, then a read of its own, and a SCIM read.
        let me = try await Self.timed {
            let answer = try await root.call(.GET, "/me")
            return TestBrowser.Page(url: "", status: answer.status, headers: ["x-portcullis-reason": answer.reason ?? ""], body: answer.body)
        }
        #expect(ContinuousClock.now - frozen < .seconds(4), "the admin API call did not start within max_staleness; this run says nothing about it")
        Self.expectUnverifiable(me, "admin API /me", atTheDeadline: true)
        let users = try await Self.timed {
            let answer = try await scim.call(.GET, "/Users")
            return TestBrowser.Page(url: "", status: answer.status, headers: [:], body: answer.body)
        }
        #expect(users.page.status == .serviceUnavailable, "SCIM: \(users.page.status) \(users.page.body.prefix(300))")
        #expect(users.elapsed < Self.deadline + Self.slack, "SCIM took \(users.elapsed)")

        // The data path, once every cached answer is past max_staleness.
        try await Task.sleep(until: frozen + .milliseconds(4_500))
        Self.expectUnverifiable(try await Self.timed { try await cookie() }, "cookie (API client)", atTheDeadline: true)
        Self.expectUnverifiable(try await Self.timed(apiToken), "API token")
        Self.expectUnverifiable(try await Self.timed(bearer), "bearer JWT")
        Self.expectUnverifiable(try await Self.timed(forwardAuth), "forward-auth")
        Self.expectUnverifiable(try await Self.timed(authRequest), status: .unauthorized, "auth_request (nginx takes only 401 and 403)")
        // A browser is still sent to sign in, with the reason, as before.
        let browser = try await Self.timed { try await cookie("text/html") }
        #expect(browser.page.status == .found, "browser: \(browser.page.status)")
        #expect(browser.page.location?.contains("/_portcullis/login") == true, "\(browser.page.location ?? "no location")")
        #expect(browser.reason == ReasonCode.sessionUnverifiable.rawValue)
        #expect(browser.elapsed < Self.deadline + Self.slack, "browser took \(browser.elapsed)")
        // Requests keep failing fast while the store stays hung (nothing piles up).
        Self.expectUnverifiable(try await Self.timed { try await cookie() }, "cookie, again")
        let stranger = try harness.browser()
        #expect(try await stranger.request(harness.url("/public/x")).status == .ok, "public routes need no store")
        await stranger.shutdown()

        let notReady = try await readyzTurned.value
        let turned = try #require(notReady, "/readyz still answered 200 15 s after the store hung")
        #expect(turned < .seconds(6), "/readyz turned 503 only after \(turned)")

        try cluster.thaw()
        #expect(try await Self.readyz(harness, becomes: .ok, within: .seconds(20)) != nil, "/readyz did not turn 200 after the store came back")
        for (name, request) in [("cookie", { try await cookie() }), ("API token", apiToken), ("bearer JWT", bearer),
                                ("forward-auth", forwardAuth), ("auth_request", authRequest)] {
            #expect(try await Self.recovers(request) != nil, "\(name) did not recover after the store came back")
        }
        #expect(try await root.call(.GET, "/me").status == .ok)
        #expect(try await scim.call(.GET, "/Users").status == .ok)
    }

    /// SQLite in WAL mode never blocks a reader on a writer, but a reader cannot start while
    /// another process holds the WAL read locks in the `-shm` file: SQLite retries for about
    /// 10 s (past its busy timeout) before it gives up. An open-file-description lock taken here
    /// conflicts with SQLite's own locks as another process's would.
    @Test("SQLite whose WAL read locks another process holds: a signed-in request is refused within the deadline; /readyz turns 503; both recover",
          .timeLimit(.minutes(2)))
    func lockedSQLite() async throws {
        let harness = try await SSOHarness.start(
            sessions: "sessions:\n  max_staleness: 1s", metrics: PrometheusCollectorRegistry(), store: "  request_deadline: 1500ms"
        )
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer {
            Task {
                await sam.shutdown()
                await harness.stop()
            }
        }
        #expect(try await sam.request(harness.url("/echo"), accept: "application/json").status == .ok)
        #expect(try await Self.readyz(harness, becomes: .ok, within: .seconds(10)) != nil, "never ready before the lock")

        let lock = try SharedMemoryLock(path: harness.sqlite.path + "-shm")
        defer { lock.release() }
        let locked = ContinuousClock.now
        let readyzTurned = Task { try await Self.readyz(harness, becomes: .serviceUnavailable, within: .seconds(15)) }
        try await Task.sleep(for: .milliseconds(1_200))
        Self.expectUnverifiable(
            try await Self.timed { try await sam.request(harness.url("/echo"), accept: "application/json") }, "cookie", atTheDeadline: true
        )
        Self.expectUnverifiable(
            try await Self.timed { try await sam.request(harness.url("/echo"), accept: "application/json") }, "cookie, again", atTheDeadline: true
        )
        let turned = try #require(try await readyzTurned.value, "/readyz still answered 200 15 s after the lock")
        #expect(turned < .seconds(6), "/readyz turned 503 only after \(turned) (locked \(ContinuousClock.now - locked) ago)")

        lock.release()
        #expect(try await Self.readyz(harness, becomes: .ok, within: .seconds(20)) != nil, "/readyz did not turn 200 after the lock was released")
        #expect(try await Self.recovers { try await sam.request(harness.url("/echo"), accept: "application/json") } != nil)
    }

    /// A write lock on the WAL lock bytes (offset 120, 8 bytes) of a SQLite `-shm` file, held as
    /// an open file description's (`F_OFD_SETLK`): it conflicts with this process's own POSIX
    /// locks, as another process's lock would.
    final class SharedMemoryLock: Sendable {
        let descriptor: Int32
        private let released = Atomic<Bool>(false)

        /// - Parameter writesOnly: lock only the WAL write lock (offset 120, 1 byte): readers go
        ///   on, every write waits (a writer elsewhere that holds on).
        init(path: String, writesOnly: Bool = false) throws {
            descriptor = open(path, O_RDWR)
            guard descriptor >= 0 else { throw TestFailure("cannot open \(path): errno \(errno)") }
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            lock.l_start = 120
            lock.l_len = writesOnly ? 1 : 8
            // F_OFD_SETLK (Linux): not every libc header exports the name.
            guard fcntl(descriptor, 37, &lock) == 0 else {
                close(descriptor)
                throw TestFailure("cannot lock \(path): errno \(errno)")
            }
        }

        /// Closing the file releases the lock (once, whoever asks first).
        func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            close(descriptor)
        }

        deinit {
            release()
        }
    }
}
}
