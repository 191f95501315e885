import NIOHTTP1
import Testing

extension ServerTests {
@Suite("Bearer challenges")
struct BearerChallengeTests {
    @Test("a 401 to an API client challenges for a bearer token; the error code only when credentials were sent (RFC 6750 §3.1)")
    func challenge() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let none = try await client.request(harness.url("/api/echo"), accept: "application/json")
        #expect(none.status == .unauthorized)
        #expect(none.headers.first(name: "www-authenticate") == #"Bearer realm="portcullis""#)
        let bad = try await client.request(harness.url("/api/echo"), headers: [("Authorization", "Bearer not-a-token")], accept: "application/json")
        #expect(bad.status == .unauthorized)
        #expect(bad.headers.first(name: "www-authenticate") == #"Bearer realm="portcullis", error="invalid_token""#)
    }
}
}
