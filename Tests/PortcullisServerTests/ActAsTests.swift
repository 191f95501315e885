import Foundation
import JWTKit
import NIOHTTP1
import PortcullisCore
import PortcullisDataPath
import PortcullisServer
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
}
}
