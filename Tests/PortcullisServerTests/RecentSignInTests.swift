import Foundation
import GRDB
import NIOHTTP1
import PortcullisCore
import PortcullisDevelopment
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// The admin API and routes can ask for MFA and a recent sign-in (issue 21 item 6):
/// `admin.require_mfa`, `admin.max_auth_age` and a route's `max_auth_age`. A session whose
/// sign-in at the IdP (`auth_time`) is too old is sent through a fresh sign-in (`prompt=login`,
/// `max_age=0`), and only an IdP that confirms one lets it on. Before, none of these keys
/// existed: an admin session of any age, with or without MFA, changed roles and minted tokens.
/// Over real sockets, with the development IdP and SQLite; a session is aged by moving its
/// `auth_time` back in the database, as time would.
@Suite("A recent sign-in for the admin API and for routes")
struct RecentSignInTests {
    static let routes = """
          - { name: recent, path: /recent, upstream: "{UPSTREAM}", require: authenticated, max_auth_age: 5m }
          - { name: api, path: /api, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true, max_auth_age: 5m }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    static func start(admin: String = "", behaviour: DevIdentityProvider.Behaviour = .init()) async throws -> SSOHarness {
        let harness = try await SSOHarness.start(
            routes: routes, sessions: "sessions:\n  max_staleness: 1s", admin: admin, behaviour: behaviour
        )
        try await AdminAPITests.bootstrap(harness)
        return harness
    }

    /// Moves every live session's sign-in time of `email` back by `seconds`, as time passing
    /// would; the gateway reads it within `max_staleness` (1 s here).
    static func age(_ harness: SSOHarness, _ email: String, by seconds: Double) async throws {
        let queue = try DatabaseQueue(path: harness.sqlite.path)
        try await queue.write { db in
            try db.execute(
                sql: "UPDATE sessions SET auth_time = auth_time - ? WHERE user_id = (SELECT id FROM users WHERE email = ?)",
                arguments: [seconds, email]
            )
        }
        try queue.close()
        try await Task.sleep(for: .milliseconds(1_300))
    }

    static let flags = #"{"group_based_permissions": true, "version": 0}"#

    @Test("admin.max_auth_age: an old sign-in reads but cannot change anything until it signs in afresh")
    func adminWritesNeedRecentSignIn() async throws {
        let harness = try await Self.start(admin: "admin:\n  max_auth_age: 15m")
        defer { Task { await harness.stop() } }
        var root = try await AdminClient.signIn(harness, as: "root@example.com")
        let rootBrowser = root.browser
        defer { Task { await rootBrowser.shutdown() } }
        let made = try await root.call(.POST, "/api-tokens", json: #"{"name":"deploy","scope":"global","expires_in_days":1}"#)
        #expect(made.status == .created, "a fresh sign-in mints tokens: \(made.body)")

        try await Self.age(harness, "root@example.com", by: 20 * 60)
        #expect(try await root.call(.GET, "/me").status == .ok, "reading needs no recent sign-in")
        for (method, path, body) in [
            (HTTPMethod.PUT, "/teammates/sam@example.com/roles", #"{"primary":"admin"}"#),
            (.POST, "/api-tokens", #"{"name":"more","scope":"user","expires_in_days":1}"#),
            (.PUT, "/greenlists/office", #"{"entries":[{"cidr":"198.51.100.0/24","label":"office"}]}"#),
            (.PUT, "/settings/feature-flags", Self.flags),
        ] {
            let refused = try await root.call(method, path, json: body)
            #expect(refused.status == .unauthorized, "\(path): \(refused.status) \(refused.body)")
            #expect(refused.reason == ReasonCode.reauthenticationRequired.rawValue, "\(path)")
            #expect((refused["login"] as? String)?.contains("reauth=1") == true, "\(path): \(refused.body)")
        }
        #expect(try await harness.store.userIdentity(subject: "sub-sam")?.effectiveRole.primary != .admin, "nothing changed")

        // The login the refusal names asks the IdP for a fresh sign-in; after it, changes work.
        let login = try #require(try await root.call(.PUT, "/settings/feature-flags", json: Self.flags)["login"] as? String)
        let page = try await root.browser.signIn(at: harness.url(login), email: "root@example.com")
        #expect(page.status == .ok, "\(page.status) \(page.body.prefix(300))")
        root.csrf = try await root.call(.GET, "/me")["csrf_token"] as? String
        let changed = try await root.call(.PUT, "/settings/feature-flags", json: Self.flags)
        #expect(changed.status == .ok, "\(changed.body)")
    }

    @Test("admin.max_auth_age: an IdP that keeps its own old sign-in (a stale auth_time) never satisfies it")
    func staleIdPSignInNeverCounts() async throws {
        let harness = try await Self.start(admin: "admin:\n  max_auth_age: 15m", behaviour: .init(reportsStaleAuthTime: true))
        defer { Task { await harness.stop() } }
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let refused = try await root.call(.PUT, "/settings/feature-flags", json: Self.flags)
        #expect(refused.reason == ReasonCode.reauthenticationRequired.rawValue, "a sign-in an hour old at the IdP is not recent: \(refused.body)")
        let login = try #require(refused["login"] as? String)
        let page = try await root.browser.signIn(at: harness.url(login), email: "root@example.com")
        #expect(page.status == .forbidden)
        #expect(page.body.contains("reauthentication_required"))
    }

    @Test("admin.require_mfa: a caller without MFA is refused every call, reads too; with MFA it works; API tokens are not sign-ins")
    func adminRequiresMFA() async throws {
        let harness = try await Self.start(admin: "admin:\n  require_mfa: true")
        defer { Task { await harness.stop() } }
        // Root signs in with MFA: changes work. Sam is made an admin, whose IdP sign-in has no
        // second factor.
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let promoted = try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"admin"}"#)
        #expect(promoted.status == .ok, "\(promoted.body)")
        let me = try await sam.request(harness.url("/_portcullis/api/v1/me"), accept: "application/json")
        #expect(me.status == .unauthorized)
        #expect(me.headers.first(name: "x-portcullis-reason") == ReasonCode.mfaRequired.rawValue)
        #expect(me.body.contains("mfa=1"), "\(me.body)")
        // A bearer JWT without MFA is refused as well.
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let bearer = try AdminClient.bearer(harness, jwt)
        defer { Task { await bearer.shutdown() } }
        #expect(try await bearer.call(.GET, "/me").reason == ReasonCode.mfaRequired.rawValue)

        let made = try await root.call(.POST, "/api-tokens", json: #"{"name":"deploy","scope":"global","expires_in_days":1}"#)
        #expect(made.status == .created, "\(made.body)")
        let secret = try #require(made["secret"] as? String)
        let token = try AdminClient.bearer(harness, secret)
        defer { Task { await token.shutdown() } }
        #expect(try await token.call(.GET, "/me").status == .ok)
    }

    @Test("a route's max_auth_age: an old sign-in is sent to sign in afresh, then served; API tokens never satisfy it")
    func routeMaxAuthAge() async throws {
        let harness = try await Self.start()
        defer { Task { await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        #expect(try await sam.request(harness.url("/recent/echo")).status == .ok)

        try await Self.age(harness, "sam@example.com", by: 10 * 60)
        let sent = try await sam.request(harness.url("/recent/echo"))
        #expect(sent.status == .found)
        let login = try #require(sent.location)
        #expect(login.contains("reauth=1"), "\(login)")
        let api = try await sam.request(harness.url("/recent/echo"), accept: "application/json")
        #expect(api.status == .unauthorized)
        #expect(api.headers.first(name: "x-portcullis-reason") == ReasonCode.reauthenticationRequired.rawValue)
        #expect(try await sam.request(harness.url("/echo")).status == .ok, "routes without max_auth_age do not care")

        let page = try await sam.signIn(at: harness.url(login), email: "sam@example.com")
        #expect(page.status == .ok, "\(page.status)")
        #expect(try await sam.request(harness.url("/recent/echo")).status == .ok)

        // An API token carries no sign-in at all.
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let made = try await root.call(.POST, "/api-tokens", json: #"{"name":"ci","scope":"user","expires_in_days":1}"#)
        let secret = try #require(made["secret"] as? String, "\(made.body)")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let refused = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(secret)")], accept: "application/json")
        #expect(refused.status == .unauthorized)
        #expect(refused.headers.first(name: "x-portcullis-reason") == ReasonCode.reauthenticationRequired.rawValue)
        // A bearer JWT with a recent auth_time does.
        let jwt = try await harness.accessToken(for: "sam@example.com")
        #expect(try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")]).status == .ok)
    }
}
}
