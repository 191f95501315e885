import Foundation
import NIOHTTP1
import Testing

extension ServerTests {
/// A keep-alive connection reuses its last signed-in answer (the data path does not ask the
/// authenticator again for the same credential), so every way a credential can stop counting
/// is tried on one open connection: the very next request on it must see the change.
@Suite("Keep-alive connections see revocations and role changes on their next request")
struct KeepAliveCredentialTests {
    /// One request on an open connection; the status code and the response, read to its end.
    static func ask(_ client: RawTLSClient, _ request: String, consumed: inout Int) async throws -> (status: Int, text: String) {
        try await client.send(request)
        let start = consumed
        let text = await client.wait { text in
            let bytes = Array(text.utf8.dropFirst(start))
            guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
            let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).lowercased()
            guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                  let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
            else { return false }
            return bytes.count - end.upperBound >= length
        }
        let answer = String(decoding: Array(text.utf8.dropFirst(start)), as: UTF8.self)
        consumed = text.utf8.count
        let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, answer)
    }

    static func get(_ path: String, _ credential: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\(credential)\r\n\r\n"
    }

    @Test("a session cookie: a role granted, a role taken away, then sign-out-all, each seen by the next request on the same connection")
    func sessionCookie() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let cookie = "Cookie: __Host-portcullis=" + (try #require(sam.cookie("__Host-portcullis", for: harness.url("/"))))
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        defer { Task { await client.close() } }
        var consumed = 0
        for _ in 0..<3 { #expect(try await Self.ask(client, Self.get("/api/echo", cookie), consumed: &consumed).status == 200) }
        #expect(try await Self.ask(client, Self.get("/admin/teammates", cookie), consumed: &consumed).status == 403)

        // Grace holds admin too, so that taking it from Sam leaves a holder.
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await grace.shutdown() } }
        let granted = try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#)
        #expect(granted.status == .ok, "\(granted.body)")
        #expect(try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        #expect(try await Self.ask(client, Self.get("/admin/teammates", cookie), consumed: &consumed).status == 200)
        let demoted = try await root.call(.PUT, "/teammates/sam@example.com/roles", json: #"{"primary":"member"}"#)
        #expect(demoted.status == .ok, "\(demoted.body)")
        #expect(try await Self.ask(client, Self.get("/admin/teammates", cookie), consumed: &consumed).status == 403)

        #expect(try await Self.ask(client, Self.get("/api/echo", cookie), consumed: &consumed).status == 200)
        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        let after = try await Self.ask(client, Self.get("/api/echo", cookie), consumed: &consumed)
        #expect(after.status == 401, "\(after.text)")
        #expect(after.text.contains("session_revoked"))
        #expect(!client.isClosed)
    }

    @Test("a bearer JWT and an API token: sign-out-all and a revoked token are seen by the next request on the same connection")
    func bearerAndAPIToken() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await root.shutdown() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let created = try await root.call(.POST, "/api-tokens", json: #"{"name":"keep-alive","scope":"user"}"#)
        let secret = try #require(created["secret"] as? String)
        let id = try #require((created["token"] as? [String: Any])?["id"] as? String)
        let jwt = try await harness.accessToken(for: "sam@example.com")
        let client = try await RawTLSClient.connect(port: harness.gatewayPort, trustRoots: try harness.certificates.trustRoots())
        defer { Task { await client.close() } }
        var consumed = 0
        for _ in 0..<3 {
            #expect(try await Self.ask(client, Self.get("/api/echo", "Authorization: Bearer \(jwt)"), consumed: &consumed).status == 200)
            #expect(try await Self.ask(client, Self.get("/api/echo", "Authorization: Bearer \(secret)"), consumed: &consumed).status == 200)
        }
        #expect(try await root.call(.DELETE, "/api-tokens/\(id)").status == .ok)
        let token = try await Self.ask(client, Self.get("/api/echo", "Authorization: Bearer \(secret)"), consumed: &consumed)
        #expect(token.status == 401 && token.text.contains("token_revoked"), "\(token.text)")

        // IdP tokens carry whole-second iat: the sign-out must come after it.
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await Self.ask(client, Self.get("/api/echo", "Authorization: Bearer \(jwt)"), consumed: &consumed).status == 200)
        #expect(try await root.call(.POST, "/teammates/sam@example.com/sessions/sign-out-all", json: "{}").status == .ok)
        let bearer = try await Self.ask(client, Self.get("/api/echo", "Authorization: Bearer \(jwt)"), consumed: &consumed)
        #expect(bearer.status == 401, "\(bearer.text)")
    }
}
}
