import NIOCore
import PortcullisDataPathTesting
import Testing

/// The request-smuggling and header-confusion corpus, in memory: each input goes through the
/// real HTTP/1.1 pipeline and proxy handler; the upstream's bytes are parsed with a parser of
/// the test's own. For every input, the upstream sees exactly the requests the access log shows
/// and never an identity header the gateway did not set.
@Suite("Hostile HTTP/1.1 requests: the upstream sees exactly what the gateway decided")
struct HostileRequestCorpusTests {
    @Test("hostile input", arguments: HostileRequest.corpus)
    func hostile(_ input: HostileRequest) throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send(input.bytes)
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        let violations = DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: parsed)
        #expect(violations == [], "\(input.name): \(violations)")
        let received = parsed.flatMap { $0.requests + ($0.partial.map { [$0] } ?? []) }
        #expect(input.allows(received.map(Self.describe)), "\(input.name): \(received.map(Self.describe))")
        if let status = input.status {
            #expect(client.text.hasPrefix("HTTP/1.1 \(status) "), "\(input.name): \(client.text.prefix(200))")
        }
        if input.upstream.isEmpty {
            #expect(!client.isActive, "\(input.name): a refused framing closes the connection")
        }
    }

    static func describe(_ request: UpstreamRequestParser.Request) -> String {
        let framing: String
        if let length = request.values("content-length").first {
            framing = "length \(length)"
        } else if !request.values("transfer-encoding").isEmpty {
            framing = "chunked"
        } else {
            framing = "none"
        }
        return "\(request.method) \(request.target) \(framing)"
    }

    @Test("the issue's reproduction: a GET whose body is a smuggled request is refused, and nothing reaches the upstream")
    func issueReproduction() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(HostileRequest.smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(HostileRequest.smuggled)")
        gateway.settle()
        #expect(client.text.hasPrefix("HTTP/1.1 400"))
        #expect(client.text.contains("body_not_allowed"))
        #expect(!client.isActive)
        #expect(gateway.upstreams.connections.isEmpty)
    }

    @Test("the same smuggling attempt on a POST: one request upstream, the smuggled bytes its framed body, no forged identity")
    func issueReproductionOnPOST() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(HostileRequest.smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(HostileRequest.smuggled)")
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        #expect(parsed.count == 1)
        #expect(parsed.first?.requests.count == 1)
        #expect(parsed.first?.requests.first.map { String(decoding: $0.body, as: UTF8.self) } == HostileRequest.smuggled)
        #expect(parsed.first?.requests.first?.values("x-portcullis-user") == [])
    }
}
