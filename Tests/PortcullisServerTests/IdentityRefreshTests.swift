import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisDevelopment
import PortcullisTestSupport
import Testing

extension ServerTests {
/// Refresh tokens kept sealed, the background refresh and "sync now" (issue 12).
@Suite("Identity: refresh and sync now")
struct IdentityRefreshTests {
    static let refreshKey = "    refresh_token_key_file: refresh-key"

    static func waitFor(_ condition: () async throws -> Bool, seconds: Double = 10) async throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(seconds) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("sync now answers the groups before and after, is audited, and needs a kept refresh token")
    func syncNow() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, oidc: Self.refreshKey, behaviour: IdentityLinkingTests.userInfoOnly)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let ada = try await AdminClient.signIn(harness, as: "ada@example.com")
        defer { Task { await root.shutdown(); await ada.shutdown() } }
        let adaUser = try #require(try await harness.store.user(email: "ada@example.com"))
        let stored = try #require(try await harness.store.refreshToken(userID: adaUser.id))
        #expect(!String(decoding: stored.sealed, as: UTF8.self).contains("portcullis"), "the refresh token is kept sealed")
        #expect(try await root.call(.PUT, "/groups/IT-Admins/roles", json: #"{"source":"oidc","primary":"admin"}"#).status == .ok)
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "admin")

        // Ada leaves IT-Admins at the provider; "sync now" applies it at once.
        harness.idp.setGroups(["Content-Team"], of: "ada@example.com")
        let synced = try await root.call(.POST, "/teammates/ada@example.com/sync", json: "{}")
        #expect(synced.status == .ok, "\(synced.body)")
        #expect(synced["outcome"] as? String == "synced")
        #expect(synced["groups_before"] as? [String] == ["Content-Team", "IT-Admins"])
        #expect(synced["groups_after"] as? [String] == ["Content-Team"])
        #expect(try await ada.call(.GET, "/me")["primary_role"] as? String == "member")
        let entry = try #require(try await harness.store.auditEntries(AuditQuery(action: .groupsSynced)).first)
        #expect(entry.actor == "root@example.com" && entry.target == "ada@example.com")
        // By user id too; a member may not; someone who never signed in has no token.
        #expect(try await root.call(.POST, "/teammates/\(adaUser.id)/sync", json: "{}").status == .ok)
        #expect(try await ada.call(.POST, "/teammates/ada@example.com/sync", json: "{}").reason == "permission_required")
        _ = try await harness.store.ensureUser(email: "nobody@example.com", at: Date())
        #expect(try await root.call(.POST, "/teammates/nobody@example.com/sync", json: "{}").status == .notFound)
        #expect(try await root.call(.POST, "/teammates/ghost@example.com/sync", json: "{}").status == .notFound)
    }

    @Test("concurrent syncs of one user take turns: a rotated refresh token is not used twice, and nobody is signed out")
    func concurrentSyncs() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, oidc: Self.refreshKey)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let ada = try await AdminClient.signIn(harness, as: "ada@example.com")
        defer { Task { await root.shutdown(); await ada.shutdown() } }
        // The development IdP rotates refresh tokens: a second use of one is invalid_grant.
        let answers = try await withThrowingTaskGroup(of: (status: UInt, body: String).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let answer = try await root.call(.POST, "/teammates/ada@example.com/sync", json: "{}")
                    return (answer.status.code, answer.body)
                }
            }
            var answers: [(status: UInt, body: String)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        for answer in answers {
            #expect(answer.status == 200 && answer.body.contains(#""outcome":"synced""#), "\(answer.body)")
        }
        #expect(try await ada.call(.GET, "/me").status == .ok, "Ada's session survived")
    }

    @Test("without a refresh token key, sync now says why")
    func unavailable() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let answer = try await root.call(.POST, "/teammates/root@example.com/sync", json: "{}")
        #expect(answer.status == .conflict && answer.reason == "refresh_unavailable", "\(answer.body)")
    }

    @Test("the background refresh applies a removal at the provider within the interval; invalid_grant ends the sessions")
    func backgroundRefresh() async throws {
        let harness = try await SSOHarness.start(
            routes: AdminAPITests.routes, oidc: Self.refreshKey + "\n    refresh_interval: 1s"
        )
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        #expect(try await root.call(.PUT, "/groups/Research/roles", json: #"{"source":"oidc","secondary":["answers_moderator"]}"#).status == .ok)
        let (grace, _) = try await harness.signedIn("grace@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await grace.shutdown(); await sam.shutdown() } }
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .ok)

        harness.idp.setGroups([], of: "grace@example.com")
        let removed = try await Self.waitFor { try await grace.request(harness.url("/answers/moderate")).status == .forbidden }
        #expect(removed, "the background refresh did not apply the removal")
        #expect(try await grace.request(harness.url("/echo")).status == .ok, "the session itself stays")

        // Sam is gone at the provider: the refresh is refused and his sessions end.
        harness.idp.revokeRefreshTokens(of: "sam@example.com")
        let ended = try await Self.waitFor { try await sam.request(harness.url("/echo"), accept: "application/json").status == .unauthorized }
        #expect(ended, "sessions survived an invalid_grant")
        let samUser = try #require(try await harness.store.user(email: "sam@example.com"))
        #expect(try await harness.store.activeSessions(userID: samUser.id, now: Date()).isEmpty)
        let revoked = try await harness.store.auditEntries(AuditQuery(action: .sessionsSignedOut))
        #expect(revoked.contains { $0.actor == "idp" && $0.after?.objectValue?["reason"] == .string("idp_session_ended") })
        #expect(try await harness.store.refreshToken(userID: samUser.id) == nil)
    }
}
}
