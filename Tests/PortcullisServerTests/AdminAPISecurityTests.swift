import Foundation
import GRDB
import JWTKit
import NIOHTTP1
import PortcullisCore
import PortcullisServer
import PortcullisStore
import PortcullisTestSupport
import Testing
import PortcullisDataPath

/// What an upstream checks in `X-Portcullis-Assertion`, with jwt-kit as an upstream would.
struct UpstreamAssertion: JWTPayload {
    var sub: SubjectClaim
    var aud: AudienceClaim
    var iss: IssuerClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var email: String
    var role: String
    var roles: [String]
    var authMethod: String
    var route: String

    enum CodingKeys: String, CodingKey {
        case sub, aud, iss, exp, iat, email, role, roles, route
        case authMethod = "auth_method"
    }

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

extension ServerTests {
@Suite("Admin API: CSRF, API tokens, assertions, greenlists")
struct AdminAPISecurityTests {
    static func start() async throws -> (SSOHarness, AdminClient) {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        try await AdminAPITests.bootstrap(harness)
        return (harness, try await AdminClient.signIn(harness, as: "root@example.com"))
    }

    static func echo(_ page: TestBrowser.Page) throws -> TestUpstream.Echo {
        try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
    }

    @Test("cookie sessions need the CSRF token and the same origin for changes; reads and bearer calls do not")
    func csrf() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let body = #"{"group_based_permissions": true, "version": 0}"#
        let missing = try await root.call(.PUT, "/settings/feature-flags", json: body, csrf: false)
        #expect(missing.status == .forbidden)
        #expect(missing.reason == "csrf_token_invalid")
        let wrong = try await root.call(.PUT, "/settings/feature-flags", json: body, headers: [("X-CSRF-Token", "forged")], csrf: false)
        #expect(wrong.reason == "csrf_token_invalid")
        let crossSite = try await root.call(.PUT, "/settings/feature-flags", json: body, headers: [("Origin", "https://evil.example")])
        #expect(crossSite.status == .forbidden)
        #expect(crossSite.reason == "cross_origin")
        let fetchSite = try await root.call(.PUT, "/settings/feature-flags", json: body, headers: [("Sec-Fetch-Site", "cross-site")])
        #expect(fetchSite.reason == "cross_origin")
        #expect(try await root.call(.PUT, "/settings/feature-flags", json: body).status == .ok)
        // Another session's token is useless here.
        let other = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await other.shutdown() } }
        #expect(other.csrf != root.csrf)
        let swapped = try await root.call(.PUT, "/settings/feature-flags", json: body, headers: [("X-CSRF-Token", other.csrf ?? "")], csrf: false)
        #expect(swapped.reason == "csrf_token_invalid")
        // No credential at all: 401 with a reason, not a redirect.
        let stranger = try harness.browser()
        let anonymous = try await stranger.request(harness.url("/_portcullis/api/v1/me"), accept: "application/json")
        await stranger.shutdown()
        #expect(anonymous.status == .unauthorized)
        #expect(anonymous.body.contains("login_required"))
    }

    @Test("bad bodies and names get 400 with a reason; unknown teammates 404")
    func badInput() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let cases: [(String, String, String)] = [
            ("/teammates/root@example.com/roles", #"{"primary":"emperor"}"#, "unknown_role"),
            ("/teammates/root@example.com/roles", #"{"primary":"admin","secondary":["answers_moderator","x"]}"#, "unknown_role"),
            ("/teammates/root@example.com/roles", #"{"primary": 7}"#, "invalid_body"),
            ("/teammates/root@example.com/roles", #"not json"#, "invalid_body"),
            ("/settings/default-member-permissions", #"{"teams.manage": true}"#, "unknown_permission"),
            ("/settings/feature-flags", #"{"everything": true}"#, "unknown_flag"),
            ("/greenlists/office", #"{"entries":[{"cidr":"10.0.0.300/8","label":"x"}]}"#, "invalid_body"),
            ("/greenlists/bad name", #"{"entries":[]}"#, "invalid_name"),
        ]
        for (path, json, reason) in cases {
            let answer = try await root.call(.PUT, path.replacingOccurrences(of: " ", with: "%20"), json: json)
            #expect(answer.status == .badRequest, "\(path) \(json): \(answer.body)")
            #expect(answer.reason == reason, "\(path) \(json): \(answer.body)")
        }
        let cidr = try await root.call(.PUT, "/greenlists/office", json: #"{"entries":[{"cidr":"10.0.0.300/8","label":"x"}]}"#)
        #expect((cidr["message"] as? String)?.contains("10.0.0.300") == true, "\(cidr.body)")
        #expect(try await root.call(.GET, "/teammates/nobody@example.com").status == .notFound)
        #expect(try await root.call(.GET, "/teammates?page=0").reason == "invalid_page")
        #expect(try await root.call(.GET, "/teammates?role=emperor").reason == "unknown_role")
        let big = String(repeating: "a", count: 1_100_000)
        let tooLarge = try await root.call(.PUT, "/settings/feature-flags", json: "{\"\(big)\": true}")
        #expect(tooLarge.status.code == 413, "\(tooLarge.status)")
    }

    @Test("API tokens: shown once, work on allow_bearer routes, carry their owner's role, and stop on revocation")
    func apiTokens() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let sam = try await AdminClient.signIn(harness, as: "sam@example.com")
        defer { Task { await sam.shutdown() } }
        // Members lack api_tokens.create; global scope needs super admin.
        #expect(try await sam.call(.POST, "/api-tokens", json: #"{"name":"mine"}"#).reason == "permission_required")
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"deploy","scope":"global","expires_in_days":7}"#)
        #expect(created.status == .created, "\(created.body)")
        let secret = try #require(created["secret"] as? String)
        #expect(secret.hasPrefix("pct_"))
        #expect(secret.count == 68, "pct_, 256 random bits and their tag")
        let tokenInfo = try #require(created["token"] as? [String: Any])
        let id = try #require(tokenInfo["id"] as? String)
        #expect(tokenInfo["scope"] as? String == "global")
        #expect((tokenInfo["prefix"] as? String).map { secret.hasPrefix($0) } == true)
        // The secret appears nowhere else: not in the list, not in the audit log, not in the store.
        let listed = try await root.call(.GET, "/api-tokens")
        #expect(!listed.body.contains(secret))
        #expect((listed["tokens"] as? [Any])?.count == 1)
        #expect(!(try await root.call(.GET, "/audit").body.contains(secret)))
        let raw = try Data(contentsOf: URL(fileURLWithPath: harness.sqlite.path))
        #expect(raw.range(of: Data(secret.utf8)) == nil)

        // The token works as its owner on a route that allows bearer credentials...
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let page = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(secret)")], accept: "application/json")
        #expect(page.status == .ok)
        let echo = try Self.echo(page)
        #expect(echo.values("x-portcullis-email") == ["root@example.com"])
        #expect(echo.values("x-portcullis-role") == ["super_admin"])
        #expect(echo.values("authorization").isEmpty, "the token must not reach the upstream")
        // ...and on the admin API, without CSRF (it is not an ambient credential).
        let viaToken = try AdminClient.bearer(harness, secret)
        defer { Task { await viaToken.shutdown() } }
        #expect(try await viaToken.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions": true, "version": 0}"#).status == .ok)
        // Not on a route without allow_bearer.
        let app = try await client.request(harness.url("/echo"), headers: [("Authorization", "Bearer \(secret)")], accept: "application/json")
        #expect(app.status == .unauthorized || app.status == .forbidden)
        #expect(app.body.contains("bearer_not_allowed"))
        // Malformed and unknown tokens are refused without a store read.
        for bad in ["pct_short", "pct_" + String(repeating: "!", count: 43), "pct_" + String(repeating: "A", count: 43)] {
            let refused = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(bad)")], accept: "application/json")
            #expect(refused.status == .unauthorized, "\(bad)")
            #expect(refused.body.contains("invalid_token"), "\(bad)")
        }
        // Revoked: the very next request is refused.
        let revoked = try await root.call(.DELETE, "/api-tokens/\(id)")
        #expect(revoked.status == .ok, "\(revoked.body)")
        #expect(revoked["revoked_at"] is String)
        let after = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(secret)")], accept: "application/json")
        #expect(after.status == .unauthorized)
        #expect(after.body.contains("token_revoked"))
        #expect(try await root.call(.DELETE, "/api-tokens/\(id)").reason == "already_revoked")
    }

    @Test("the upstream verifies X-Portcullis-Assertion with jwt-kit against /_portcullis/jwks.json, across a key rotation")
    func assertions() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let audience = "http://127.0.0.1:\(harness.upstream.port)"
        func assertion() async throws -> String {
            let page = try await root.browser.request(harness.url("/echo"), accept: "application/json")
            return try #require(try Self.echo(page).values("x-portcullis-assertion").first)
        }
        func jwks() async throws -> String {
            let page = try await root.browser.request(harness.url("/_portcullis/jwks.json"), accept: "application/json")
            #expect(page.status == .ok)
            return page.body
        }
        let first = try await assertion()
        let keys = try await JWTKeyCollection().add(jwksJSON: try await jwks())
        let payload = try await keys.verify(first, as: UpstreamAssertion.self)
        #expect(payload.email == "root@example.com")
        #expect(payload.role == "super_admin")
        #expect(payload.authMethod == "oidc")
        #expect(payload.route == "app")
        #expect(payload.iss.value == harness.origin)
        try payload.aud.verifyIntendedAudience(includes: audience)
        #expect(payload.exp.value.timeIntervalSince(payload.iat.value) == 60)
        // An assertion for one upstream is not one for another.
        #expect(throws: (any Error).self) { try payload.aud.verifyIntendedAudience(includes: "http://127.0.0.1:1") }

        // Rotate: new assertions carry the new key; the old one still verifies.
        let rotated = try await root.call(.POST, "/signing-keys/rotate")
        #expect(rotated.status == .ok, "\(rotated.body)")
        let newKid = try #require(rotated["kid"] as? String)
        #expect((rotated["published"] as? [String])?.count == 2)
        let second = try await assertion()
        #expect(second != first)
        let header = try #require(Data(base64URLEncoded: String(second.split(separator: ".")[0])))
        #expect(String(decoding: header, as: UTF8.self).contains(newKid))
        let refreshed = try await JWTKeyCollection().add(jwksJSON: try await jwks())
        _ = try await refreshed.verify(first, as: UpstreamAssertion.self)
        _ = try await refreshed.verify(second, as: UpstreamAssertion.self)
        // A tampered assertion does not verify.
        var parts = second.split(separator: ".").map(String.init)
        parts[1] = Data(#"{"sub":"x","aud":"\#(audience)","iss":"x","exp":9999999999,"iat":1,"email":"evil@example.com","role":"super_admin","roles":[],"auth_method":"oidc","route":"app"}"#.utf8).base64URLEncodedString()
        await #expect(throws: (any Error).self) { try await refreshed.verify(parts.joined(separator: "."), as: UpstreamAssertion.self) }
        // Only super admins rotate.
        let sam = try await AdminClient.signIn(harness, as: "sam@example.com")
        defer { Task { await sam.shutdown() } }
        #expect(try await sam.call(.POST, "/signing-keys/rotate").status == .forbidden)
    }

    @Test("sign-out-all refuses bearer JWTs issued before it, and the API tokens when asked")
    func signOutAllCoversBearers() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        // Bearer JWTs never create accounts: Sam signs in through SSO once.
        let (samBrowser, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await samBrowser.shutdown() } }
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        #expect(try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")]).status == .ok)
        // IdP tokens carry whole-second iat: the sign-out must come after it.
        try await Task.sleep(for: .milliseconds(1_100))
        let out = try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}")
        #expect(out.status == .ok, "\(out.body)")
        let refused = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")], accept: "application/json")
        #expect(refused.status == .unauthorized)
        #expect(refused.body.contains("token_revoked") || refused.body.contains("session_revoked"), "\(refused.body)")
        // A fresh token (a new sign-in) works again.
        try await Task.sleep(for: .milliseconds(1_100))
        let fresh = try await harness.accessToken(for: "sam@example.com")
        #expect(try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(fresh)")]).status == .ok)
    }

    @Test("a group mapping or the group flag changes the next request; the 1,001st mapping is refused")
    func mappingsApplyAtOnce() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        defer { Task { await grace.shutdown() } }
        #expect(try await grace.browser.request(harness.url("/answers/moderate")).status == .forbidden)
        #expect(try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc","secondary":["answers_moderator"]}"#).status == .ok)
        #expect(try await grace.browser.request(harness.url("/answers/moderate")).status == .ok)
        // Turning group roles off must not leave answers_moderator without a holder: root holds it too.
        #expect(try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"super_admin","secondary":["answers_moderator"]}"#).status == .ok)
        let off = try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions": false, "version": 0}"#)
        #expect(off.status == .ok, "\(off.body)")
        #expect(try await grace.browser.request(harness.url("/answers/moderate")).status == .forbidden)
        let explained = try await root.call(.GET, "/teammates/grace@example.com")
        #expect(((explained["effective_role"] as? [String: Any])?["ignored_sources"] as? [Any])?.count == 1)
        #expect(try await root.call(.PUT, "/settings/feature-flags", json: #"{"group_based_permissions": true, "version": 1}"#).status == .ok)
        #expect(try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"super_admin"}"#).status == .ok)
        #expect(try await grace.browser.request(harness.url("/answers/moderate")).status == .ok)
        // Research is the only holder of answers_moderator: its mapping cannot go first.
        let last = try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc"}"#)
        #expect(last.status == .conflict)
        #expect(last.reason == "last_role_holder")
        #expect(try await root.call(.PUT, "/teammates/root@example.com/roles", json: #"{"primary":"super_admin","secondary":["answers_moderator"]}"#).status == .ok)
        // Then removing the mapping (a source and no roles) takes the role from Grace at once.
        #expect(try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc"}"#).status == .ok)
        #expect(try await grace.browser.request(harness.url("/answers/moderate")).status == .forbidden)

        // Fill the store to 1,000 mapped groups; the next mapping is refused with 409.
        let queue = try DatabaseQueue(path: harness.sqlite.path)
        try await queue.write { db in
            for index in 0..<1_000 {
                try db.execute(sql: "INSERT INTO groups (id, name, created_at) VALUES (?, ?, 0)", arguments: ["bulk-\(index)", "Bulk-\(index)"])
                try db.execute(sql: "INSERT INTO group_roles (group_id, source, primary_role, secondary, updated_at) VALUES (?, 'scim', 'member', 'pins_moderator', 0)",
                               arguments: ["bulk-\(index)"])
            }
        }
        try queue.close()
        let full = try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc","secondary":["pins_moderator"]}"#)
        #expect(full.status == .conflict)
        #expect(full.reason == "group_mapping_limit")
        let groups = try await root.call(.GET, "/groups")
        #expect(groups["mapped_groups"] as? Int == 1_000)
        // Members see no groups.
        #expect(try await grace.call(.GET, "/groups").status == .forbidden)
        let me = try await grace.call(.GET, "/me")
        #expect(me.body.contains("permissions"))
        #expect(!me.body.contains("Research"))
    }

    @Test("greenlists: stored lists, the tenant list, lock-out refusals, dry runs and the policy tester")
    func greenlists() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let office = #"{"entries":[{"cidr":"198.51.100.0/24","label":"office"}]}"#
        #expect(try await root.call(.PUT, "/greenlists/office", json: office).status == .ok)
        let withLoopback = #"{"entries":[{"cidr":"127.0.0.0/8","label":"loopback"},{"cidr":"198.51.100.0/24","label":"office"}]}"#
        #expect(try await root.call(.PUT, "/greenlists/safe", json: withLoopback).status == .ok)

        // The dry run names who would be cut off, including the caller.
        let dryRun = try await root.call(.POST, "/ip-policy/dry-run", json: #"{"greenlist":\#(office)}"#)
        #expect(dryRun.status == .ok, "\(dryRun.body)")
        #expect(dryRun["would_lock_out_self"] as? Bool == true)
        #expect(dryRun["admins_cut_off"] as? [String] == ["root@example.com"])
        #expect((dryRun["sessions_cut_off"] as? [Any])?.count == 1)
        #expect(try await root.call(.POST, "/ip-policy/dry-run", json: #"{"greenlist":\#(withLoopback)}"#)["would_lock_out_self"] as? Bool == false)

        // Making "office" the tenant list would lock the caller (on 127.0.0.1) out: 409.
        let locked = try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"office"}"#)
        #expect(locked.status == .conflict)
        #expect(locked.reason == "would_lock_out_self")
        #expect(try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"safe"}"#).status == .ok)
        // Shrinking the tenant list to exclude the caller is refused too, unless forced.
        let shrink = try await root.call(.PUT, "/greenlists/safe", json: office)
        #expect(shrink.reason == "would_lock_out_self")
        #expect(try await root.call(.GET, "/me").status == .ok)

        // The policy tester answers for any address.
        let test = try await root.call(.POST, "/ip-policy/test", json: #"{"ip":"203.0.113.9","user":"root@example.com","route":"answers-new"}"#)
        #expect(test["allowed"] as? Bool == false)
        #expect(test["reason"] as? String == "ip_not_greenlisted")
        let inside = try await root.call(.POST, "/ip-policy/test", json: #"{"ip":"198.51.100.20"}"#)
        #expect(inside["allowed"] as? Bool == true)
        #expect(((inside["decided_by"] as? [String: Any])?["rule"] as? String) == "safe")
        #expect(try await root.call(.POST, "/ip-policy/test", json: #"{"ip":"300.1.1.1"}"#).reason == "invalid_ip")

        // Forced, the change applies at once: the caller's next request is refused.
        let forced = try await root.call(.PUT, "/greenlists/safe", json: #"{"entries":[{"cidr":"198.51.100.0/24","label":"office"}],"force":true}"#)
        #expect(forced.status == .ok, "\(forced.body)")
        let shutOut = try await root.browser.request(harness.url("/echo"), accept: "application/json")
        #expect(shutOut.status == .forbidden)
        #expect(shutOut.body.contains("ip_not_greenlisted"))
        // Lifted out of band (as the CLI would), the store-backed policy is re-read.
        try await harness.store.setTenantGreenlist(nil, audit: AuditContext(actor: "cli", actorIsSuperAdmin: false, sourceIP: nil, at: Date()))
        try await harness.assembly.network.reload(from: harness.store)
        try harness.assembly.gateway.refreshPolicy()
        #expect(try await root.browser.request(harness.url("/echo")).status == .ok)
        let audit = try await root.call(.GET, "/audit?action=greenlist.changed")
        #expect((audit["entries"] as? [Any])?.count == 3)
    }
}
}
