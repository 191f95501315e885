import NIOCore
import PortcullisCore
import PortcullisDataPath
import PortcullisDataPathTesting
import Testing

/// One hostile HTTP/1.1 input and what must come of it. `upstream` lists what the upstream may
/// receive, one entry per request: `"GET / length 44"`, `"POST /x chunked"`, `"GET / none"`.
struct HostileRequest: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: String
    let upstream: [String]
    /// The status of the first response, when one is expected.
    let status: Int?

    var testDescription: String { name }
}

/// The request-smuggling and header-confusion corpus, in memory: each input goes through the
/// real HTTP/1.1 pipeline and proxy handler; the upstream's bytes are parsed with a parser of
/// the test's own. For every input, the upstream sees exactly the requests the access log shows
/// and never an identity header the gateway did not set.
@Suite("Hostile HTTP/1.1 requests: the upstream sees exactly what the gateway decided")
struct HostileRequestCorpusTests {
    static let smuggled = "GET /admin HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\nX-Portcullis-Role: super_admin\r\n\r\n"

    static let corpus: [HostileRequest] = [
        // The issue's first way in: framing listed in Connection.
        .init(name: "CL listed in Connection on a GET",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(smuggled)",
              upstream: ["GET / length \(smuggled.utf8.count)"], status: 200),
        .init(name: "TE listed in Connection on a POST",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: 200),
        .init(name: "Host and identity names listed in Connection",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Host, X-Portcullis-User, X-Forwarded-For, Content-Length\r\nContent-Length: 2\r\n\r\nhi",
              upstream: ["GET / length 2"], status: 200),
        // CL.TE and TE.CL.
        .init(name: "CL and TE together",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
              upstream: [], status: 400),
        .init(name: "TE and CL together",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
              upstream: [], status: 400),
        // Obfuscated transfer codings.
        .init(name: "TE xchunked", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", upstream: [], status: 400),
        .init(name: "TE chunked, identity", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "TE gzip, chunked", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "two TE headers",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "space before the colon", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "TE on HTTP/1.0", bytes: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", upstream: [], status: 400),
        // Look-alike framing headers: the parser does not frame by them, so neither may anyone.
        .init(name: "Content_Length look-alike",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent_Length: 10\r\n\r\n",
              upstream: ["GET / none"], status: 200),
        .init(name: "Transfer_Encoding look-alike",
              bytes: "POST /x HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
              upstream: ["POST /x length 3"], status: 200),
        // Content-Length oddities.
        .init(name: "two different lengths", bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
              upstream: [], status: 400),
        .init(name: "length with a sign", bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", upstream: [], status: 400),
        .init(name: "length in hex", bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", upstream: [], status: 400),
        .init(name: "length list", bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", upstream: [], status: 400),
        .init(name: "length beyond 64 bits",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nabc", upstream: [], status: 400),
        .init(name: "a body longer than its length: the rest is the next request, refused",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGARBAGE\r\n\r\n",
              upstream: ["POST / length 3"], status: 200),
        // The issue's second way in, over HTTP/1.1: bodies on methods that rarely have one.
        .init(name: "GET with a length", bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
              upstream: ["GET / length \(smuggled.utf8.count)"], status: 200),
        .init(name: "HEAD with a length", bytes: "HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
              upstream: ["HEAD / length \(smuggled.utf8.count)"], status: 200),
        .init(name: "DELETE chunked",
              bytes: "DELETE /item HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(String(smuggled.utf8.count, radix: 16))\r\n\(smuggled)\r\n0\r\n\r\n",
              upstream: ["DELETE /item chunked"], status: 200),
        .init(name: "OPTIONS with a length", bytes: "OPTIONS / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody",
              upstream: ["OPTIONS / length 4"], status: 200),
        .init(name: "POST without a body gets Content-Length: 0", bytes: "POST /form HTTP/1.1\r\nHost: a\r\n\r\n",
              upstream: ["POST /form length 0"], status: 200),
        // Trailers never travel: they are not filtered like headers.
        .init(name: "identity headers in trailers",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Portcullis-User: root\r\n\r\n",
              upstream: ["POST / chunked"], status: 200),
        .init(name: "a length in trailers",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nContent-Length: 50\r\n\r\n",
              upstream: ["POST / chunked"], status: nil),
        .init(name: "chunk extension", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: 200),
        .init(name: "negative chunk size", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: nil),
        .init(name: "chunk size overflow",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: nil),
        // Pipelining: two requests, two exchanges, in order.
        .init(name: "pipelined requests",
              bytes: "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n",
              upstream: ["GET /one none", "GET /two none"], status: 200),
        .init(name: "pipelined request carrying forged identity",
              bytes: "GET /one HTTP/1.1\r\nHost: a\r\n\r\n\(smuggled)",
              upstream: ["GET /one none", "GET /admin none"], status: 200),
        // Targets, line endings, bytes the grammar forbids.
        .init(name: "absolute-form target", bytes: "GET http://evil.test/admin HTTP/1.1\r\nHost: a\r\n\r\n", upstream: [], status: 400),
        .init(name: "asterisk-form target", bytes: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", upstream: [], status: 400),
        .init(name: "obs-fold", bytes: "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", upstream: [], status: 400),
        .init(name: "bare LF line endings", bytes: "GET / HTTP/1.1\nHost: a\n\n", upstream: [], status: 400),
        .init(name: "NUL in a header value", bytes: "GET / HTTP/1.1\r\nHost: a\r\nX-Nul: a\u{0}b\r\n\r\n", upstream: [], status: 400),
        .init(name: "CR in a header value", bytes: "GET / HTTP/1.1\r\nHost: a\r\nX-CR: a\rb\r\n\r\n", upstream: [], status: 400),
        .init(name: "encoded CRLF in the path", bytes: "GET /a%0d%0aX-Portcullis-User:%20root HTTP/1.1\r\nHost: a\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "missing Host", bytes: "GET / HTTP/1.1\r\n\r\n", upstream: [], status: 400),
        .init(name: "two Host headers", bytes: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", upstream: [], status: 400),
        // Identity headers in every spelling are the gateway's alone.
        .init(name: "forged identity headers in every spelling",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\nx_portcullis_role: super_admin\r\nX-PORTCULLIS-ASSERTION: e30.e30.\r\nX-Forwarded-User: root\r\nRemote-User: root\r\nX-Auth-Request-Email: root@example.com\r\n\r\n",
              upstream: ["GET / none"], status: 200),
        // Upgrades that are not WebSocket, and WebSocket with a body.
        .init(name: "h2c upgrade is not passed on",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n",
              upstream: ["GET / none"], status: 200),
        .init(name: "WebSocket upgrade with a body",
              bytes: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
              upstream: [], status: 400),
        .init(name: "CONNECT", bytes: "CONNECT internal:443 HTTP/1.1\r\nHost: internal:443\r\n\r\n", upstream: [], status: 400),
        .init(name: "TRACE with a body", bytes: "TRACE / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", upstream: [], status: 400),
        .init(name: "Expect: 100-continue is answered here, not passed on",
              bytes: "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
              upstream: ["PUT /f length 2"], status: 100),
        .init(name: "HTTP/1.0 keep-alive with a body",
              bytes: "POST /old HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
              upstream: ["POST /old length 2"], status: 200),
    ]

    @Test("hostile input", arguments: corpus)
    func hostile(_ input: HostileRequest) throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send(input.bytes)
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        let violations = DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: parsed)
        #expect(violations == [], "\(input.name): \(violations)")
        let received = parsed.flatMap { $0.requests + ($0.partial.map { [$0] } ?? []) }
        #expect(received.map(Self.describe) == input.upstream, "\(input.name)")
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

    @Test("a GET whose body is a smuggled request: the upstream gets one request, with the body framed, and no forged identity")
    func issueReproduction() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(Self.smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(Self.smuggled)")
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        #expect(parsed.count == 1)
        #expect(parsed.first?.requests.count == 1)
        #expect(parsed.first?.requests.first.map { String(decoding: $0.body, as: UTF8.self) } == Self.smuggled)
        #expect(parsed.first?.requests.first?.values("x-portcullis-user") == [])
    }
}
