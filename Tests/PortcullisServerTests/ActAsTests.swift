import Foundation
import JWTKit
import NIOHTTP1
import PortcullisCore
import PortcullisDataPath
import PortcullisServer
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// `global` API tokens act as a user with `X-Portcullis-Act-As` (issue 12); nothing else may.
@Suite("Identity: global tokens act as a user")
struct ActAsTests {
    static func payload(_ jwt: String) throws -> [String: Any] {
        let parts = jwt.split(separator: ".")
        let data = try #require(Data(base64URLEncoded: String(parts[1])))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a global token acts as the named user: their role, their identity upstream, an act claim, an audit entry each time")
    func globalToken() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (grace, _) = try await harness.signedIn("grace@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await root.shutdown(); await grace.shutdown(); await sam.shutdown() } }
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"integration","scope":"global"}"#)
        let secret = try #require(created["secret"] as? String)
        let tokenID = try #require((created["token"] as? [String: Any])?["id"] as? String)
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let auth = ("Authorization", "Bearer \(secret)")

        let asSam = try await client.request(harness.url("/api/echo"), headers: [auth, ("X-Portcullis-Act-As", "SAM@example.com")], accept: "application/json")
        #expect(asSam.status == .ok, "\(asSam.body)")
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(asSam.body.utf8))
        #expect(echo.values("x-portcullis-email") == ["sam@example.com"])
        #expect(echo.values("x-portcullis-role") == ["member"])
        #expect(echo.values("x-portcullis-act-as").isEmpty, "the header never reaches the upstream")
        let assertion = try Self.payload(try #require(echo.values("x-portcullis-assertion").first))
        let act = try #require(assertion["act"] as? [String: Any])
        #expect(act["email"] as? String == "root@example.com" && act["token"] as? String == tokenID)
        #expect(assertion["email"] as? String == "sam@example.com")
        // Sam's role, not root's: a route for admins refuses.
        #expect(try await client.request(harness.url("/admin/teammates"), headers: [auth, ("X-Portcullis-Act-As", "sam@example.com")]).status == .forbidden)
        let asGrace = try await client.request(harness.url("/admin/teammates"), headers: [auth, ("X-Portcullis-Act-As", "grace@example.com")])
        #expect(asGrace.status == .ok)
        // Without the header the token is its owner.
        let asRoot = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(try await client.request(harness.url("/api/echo"), headers: [auth]).body.utf8))
        #expect(asRoot.values("x-portcullis-email") == ["root@example.com"])

        // Every use is audited and counted.
        var audited = false
        for _ in 0..<50 where !audited {
            audited = try await harness.store.auditEntries(AuditQuery(action: .apiTokenActedAs)).count == 3
            if !audited { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(audited)
        let entries = try await harness.store.auditEntries(AuditQuery(action: .apiTokenActedAs))
        #expect(Set(entries.map(\.target)) == ["sam@example.com", "grace@example.com"])
        #expect(entries.allSatisfy { $0.actor == "root@example.com" })
        let listed = try await root.call(.GET, "/api-tokens")
        let token = (listed["tokens"] as? [[String: Any]] ?? []).first { $0["id"] as? String == tokenID }
        #expect(token?["act_as_count"] as? Int == 3)
        // Through the admin API the actions are the target's, audited as the owner acting.
        let api = try AdminClient.bearer(harness, secret)
        let me = try await api.call(.GET, "/me", headers: [("X-Portcullis-Act-As", "grace@example.com")])
        await api.shutdown()
        #expect(me["email"] as? String == "grace@example.com" && me["primary_role"] as? String == "admin")

        for (email, reason) in [("nobody@example.com", "act_as_user_unknown"), ("", "act_as_user_unknown")] {
            let refused = try await client.request(harness.url("/api/echo"), headers: [auth, ("X-Portcullis-Act-As", email)], accept: "application/json")
            #expect(refused.status == .forbidden && refused.body.contains(reason), "\(email): \(refused.status) \(refused.body)")
        }
        let twice = try await client.request(
            harness.url("/api/echo"), headers: [auth, ("X-Portcullis-Act-As", "sam@example.com"), ("X-Portcullis-Act-As", "grace@example.com")],
            accept: "application/json"
        )
        #expect(twice.status == .forbidden && twice.body.contains("act_as_not_allowed"))
        // A deactivated target cannot be acted as.
        let samUser = try #require(try await harness.store.user(email: "sam@example.com"))
        _ = try await harness.store.updateProvisionedUser(
            id: samUser.id, ProvisionedUser(email: "sam@example.com", active: false), expectedVersion: nil,
            audit: AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        )
        harness.assembly.policyVersion.bump()
        #expect(try await client.request(harness.url("/api/echo"), headers: [auth, ("X-Portcullis-Act-As", "sam@example.com")]).status == .forbidden)
    }

    @Test("a user token, a session cookie or a bearer JWT sending X-Portcullis-Act-As is refused (act_as_not_allowed)")
    func otherCredentials() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await root.shutdown(); await sam.shutdown() } }
        let userToken = try #require(try await root.call(.POST, "/api-tokens", json: #"{"name":"mine","scope":"user"}"#)["secret"] as? String)
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let viaUserToken = try await client.request(
            harness.url("/api/echo"), headers: [("Authorization", "Bearer \(userToken)"), ("X-Portcullis-Act-As", "sam@example.com")],
            accept: "application/json"
        )
        #expect(viaUserToken.status == .forbidden && viaUserToken.body.contains("act_as_not_allowed"), "\(viaUserToken.body)")
        let viaCookie = try await sam.request(harness.url("/api/echo"), headers: [("X-Portcullis-Act-As", "root@example.com")], accept: "application/json")
        #expect(viaCookie.status == .forbidden && viaCookie.body.contains("act_as_not_allowed"), "\(viaCookie.body)")
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let viaJWT = try await client.request(
            harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)"), ("X-Portcullis-Act-As", "root@example.com")],
            accept: "application/json"
        )
        #expect(viaJWT.status == .forbidden && viaJWT.body.contains("act_as_not_allowed"))
        // A global token whose owner lost api_tokens.create_global may no longer act as anyone.
        #expect(try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"super_admin"}"#).status == .ok)
        let samAdmin = try await AdminClient.signIn(harness, as: "sam@example.com")
        defer { Task { await samAdmin.shutdown() } }
        let global = try #require(try await samAdmin.call(.POST, "/api-tokens", json: #"{"name":"sams","scope":"global"}"#)["secret"] as? String)
        #expect(try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"member"}"#).status == .ok)
        let demoted = try await client.request(
            harness.url("/api/echo"), headers: [("Authorization", "Bearer \(global)"), ("X-Portcullis-Act-As", "root@example.com")],
            accept: "application/json"
        )
        #expect(demoted.status == .forbidden && demoted.body.contains("act_as_not_allowed"), "\(demoted.body)")
        #expect(try await harness.store.auditEntries(AuditQuery(action: .apiTokenActedAs)).isEmpty)
    }

    static let streamRoutes = """
          - { name: stream, path: /drip, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: tunnel, path: /ws, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: api, path: /api, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    /// A global token's secret, made by the bootstrapped super admin, with `sam` and `grace`
    /// known to the store (signed in once).
    static func globalToken(_ harness: SSOHarness) async throws -> String {
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (grace, _) = try await harness.signedIn("grace@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await root.shutdown(); await grace.shutdown(); await sam.shutdown() } }
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"integration","scope":"global"}"#)
        return try #require(created["secret"] as? String, "\(created.body)")
    }

    static func actAsEntries(_ harness: SSOHarness) async throws -> Int {
        try await harness.store.auditEntries(AuditQuery(action: .apiTokenActedAs)).count
    }

    /// Before, every re-check of a long response or tunnel (every half `max_staleness`) wrote
    /// another `api_token.act_as` entry: one exchange showed up as many.
    @Test("an act-as is audited once per exchange: a long response and a WebSocket tunnel re-checked every 0.5 s leave one entry each, and still end when the target is deactivated",
          .timeLimit(.minutes(2)))
    func auditedOncePerExchange() async throws {
        let harness = try await SSOHarness.start(routes: Self.streamRoutes, sessions: "sessions:\n  max_staleness: 1s")
        defer { Task { await harness.stop() } }
        let secret = try await Self.globalToken(harness)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let exchanges = [
            ("a long response", "sam@example.com", "GET /drip HTTP/1.1\r\nHost: localhost\r\n", "HTTP/1.1 200"),
            ("a WebSocket tunnel", "grace@example.com",
             "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n",
             "HTTP/1.1 101"),
        ]
        for (what, target, request, status) in exchanges {
            let before = try await Self.actAsEntries(harness)
            let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
            try await client.send(request + "Authorization: Bearer \(secret)\r\nX-Portcullis-Act-As: \(target)\r\n\r\n")
            let head = await client.wait { $0.contains("\r\n\r\n") }
            #expect(head.hasPrefix(status), "\(what): \(head.prefix(300))")
            // Six re-checks or so while it lasts.
            #expect(await !client.waitForClose(timeout: .seconds(3)), "\(what) ended early")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.actAsEntries(harness) - before == 1, "\(what): audited more than once")
            // The re-checks still hold the target to account: deactivated, the exchange ends.
            let user = try #require(try await harness.store.user(email: target))
            _ = try await harness.store.updateProvisionedUser(
                id: user.id, ProvisionedUser(email: target, active: false), expectedVersion: nil,
                audit: AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
            )
            harness.assembly.policyVersion.bump()
            #expect(await client.waitForClose(timeout: .seconds(5)), "\(what) outlived its target's deactivation")
            await client.close()
            #expect(try await Self.actAsEntries(harness) - before == 1, "\(what): audited more than once")
        }
    }

    /// Before, the entry was written off the request path: with the store's writes stuck, the
    /// request went through and its audit entry was lost.
    @Test("an act-as whose audit entry cannot be written within store.request_deadline is refused (503 session_unverifiable); a plain token request is not",
          .timeLimit(.minutes(2)))
    func refusedWithoutAudit() async throws {
        let harness = try await SSOHarness.start(routes: Self.streamRoutes, store: "  request_deadline: 1500ms")
        defer { Task { await harness.stop() } }
        let secret = try await Self.globalToken(harness)
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let auth = ("Authorization", "Bearer \(secret)")
        func actAs() async throws -> TestBrowser.Page {
            try await client.request(harness.url("/api/echo"), headers: [auth, ("X-Portcullis-Act-As", "sam@example.com")], accept: "application/json")
        }
        #expect(try await actAs().status == .ok)
        #expect(try await Self.actAsEntries(harness) == 1)

        // Every write waits (another writer holds SQLite's WAL write lock); reads go on.
        let lock = try HungStoreTests.SharedMemoryLock(path: harness.sqlite.path + "-shm", writesOnly: true)
        defer { lock.release() }
        HungStoreTests.expectUnverifiable(try await HungStoreTests.timed(actAs), "act-as", atTheDeadline: true)
        #expect(!harness.logs.entries(message: "act-as refused: its audit entry could not be written").isEmpty)
        let plain = try await client.request(harness.url("/api/echo"), headers: [auth], accept: "application/json")
        #expect(plain.status == .ok, "a request without act-as needs no write: \(plain.status)")

        lock.release()
        #expect(try await HungStoreTests.recovers(actAs) != nil, "act-as did not recover once the store took writes again")
    }
}
}
