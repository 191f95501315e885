import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// A credential that would be refused on a protected route never carries an identity anywhere:
/// on a public route the request becomes anonymous, and a tunnel or a long response of a
/// session ends when the session does. Over real sockets, with the development IdP and SQLite.
@Suite("Identity ends with its credential")
struct IdentityLifetimeTests {
    static let routes = """
          - { name: public, path: /public, upstream: "{UPSTREAM}", require: public }
          - { name: api, path: /api, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    static func start() async throws -> (SSOHarness, AdminClient) {
        let harness = try await SSOHarness.start(routes: routes, sessions: "sessions:\n  max_staleness: 1s")
        try await AdminAPITests.bootstrap(harness)
        return (harness, try await AdminClient.signIn(harness, as: "root@example.com"))
    }

    static func identityHeaders(_ page: TestBrowser.Page) throws -> [String] {
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
        return echo.names.filter { $0.lowercased().hasPrefix("x-portcullis") }
    }

    static func clearsSessionCookie(_ page: TestBrowser.Page) -> Bool {
        page.setCookies.contains { $0.hasPrefix("__Host-portcullis=;") && $0.contains("Max-Age=0") }
    }

    @Test("after sign-out-all, the revoked cookie on a public route is anonymous and cleared")
    func revokedOnPublic() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/"))
        let before = try await sam.request(harness.url("/public/echo"))
        #expect(try Self.identityHeaders(before).contains("X-Portcullis-User"))
        #expect(try Self.identityHeaders(before).contains("X-Portcullis-Assertion"))

        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        let after = try await sam.request(harness.url("/public/echo"))
        #expect(after.status == .ok)
        #expect(try Self.identityHeaders(after) == [], "a revoked session must not reach the upstream")
        #expect(Self.clearsSessionCookie(after), "\(after.setCookies)")

        // The same revoked cookie, sent again by hand: still anonymous, and refused where sign-in is needed.
        let raw = try harness.browser()
        defer { Task { await raw.shutdown() } }
        let again = try await raw.request(harness.url("/public/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie ?? "")")])
        #expect(try Self.identityHeaders(again) == [])
        let protected = try await raw.request(harness.url("/api/echo"), headers: [("Cookie", "__Host-portcullis=\(cookie ?? "")")],
                                              accept: "application/json")
        #expect(protected.status == .unauthorized)
        #expect(protected.body.contains("session_revoked") || protected.body.contains("session_expired"), "\(protected.body)")
    }

    @Test("an expired session on a public route is anonymous and its cookie is cleared")
    func expiredOnPublic() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        #expect(try Self.identityHeaders(try await sam.request(harness.url("/public/echo"))).contains("X-Portcullis-User"))
        let queue = try DatabaseQueue(path: harness.sqlite.path)
        try await queue.write { db in
            try db.execute(sql: "UPDATE sessions SET absolute_expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE email = 'sam@example.com')")
        }
        try queue.close()
        // The cached session is trusted for max_staleness (1 s) at most.
        try await Task.sleep(for: .milliseconds(1_200))
        let after = try await sam.request(harness.url("/public/echo"))
        #expect(try Self.identityHeaders(after) == [])
        #expect(Self.clearsSessionCookie(after), "\(after.setCookies)")
    }

    @Test("a bearer JWT on a public route that does not allow bearers is anonymous, and the token does not travel on")
    func bearerOnPublic() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        // Bearer JWTs never create accounts: Sam signs in through SSO once.
        let (samBrowser, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await samBrowser.shutdown() } }
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let allowed = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer \(jwt)")])
        #expect(try Self.identityHeaders(allowed).contains("X-Portcullis-User"))
        let page = try await client.request(harness.url("/public/echo"), headers: [("Authorization", "Bearer \(jwt)")])
        #expect(page.status == .ok)
        #expect(try Self.identityHeaders(page) == [])
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
        #expect(echo.values("authorization") == [])
    }

    @Test("a WebSocket tunnel of a session closes when the session is revoked")
    func tunnelEndsWithSession() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/")) ?? ""
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await client.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nCookie: __Host-portcullis=\(cookie)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        #expect(handshake.hasPrefix("HTTP/1.1 101"), "\(handshake)")
        // The tunnel stays while the session is good...
        #expect(await !client.waitForClose(timeout: .seconds(2)))
        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        // ...and ends within max_staleness of the sign-out.
        let started = ContinuousClock.now
        #expect(await client.waitForClose(timeout: .seconds(5)))
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test("a long response of a session ends when the session is revoked")
    func longResponseEndsWithSession() async throws {
        let (harness, root) = try await Self.start()
        defer { Task { await root.shutdown(); await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let cookie = sam.cookie("__Host-portcullis", for: harness.url("/")) ?? ""
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        try await client.send("GET /drip HTTP/1.1\r\nHost: localhost\r\nCookie: __Host-portcullis=\(cookie)\r\n\r\n")
        let head = await client.wait { $0.contains("\r\n\r\n") }
        #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
        #expect(await !client.waitForClose(timeout: .seconds(2)))
        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        let started = ContinuousClock.now
        #expect(await client.waitForClose(timeout: .seconds(5)))
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(harness.logs.all.contains { $0.metadata["reason"] == "credential_ended" && $0.metadata["route"] == "app" })
    }
}
}
