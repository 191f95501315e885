/// The request-smuggling and header-confusion corpus, by class: framing listed in `Connection`
/// (the first way in), CL.TE and TE.CL, obfuscated transfer codings, look-alike
/// framing headers, `Content-Length` oddities, bodies on `GET`/`HEAD`/`DELETE`/`OPTIONS`,
/// trailers, pipelining, absolute-form targets, obs-fold, bare LF, NUL and CR, `Host`
/// problems, forged identity headers, upgrades. Shared by the in-memory tests, the tests over
/// real sockets and the fuzzer's seed corpus.
///
/// One hostile HTTP/1.1 input and what must come of it. `upstream` lists what the upstream may
/// receive, one entry per request: `"GET / length 44"`, `"POST /x chunked"`, `"GET / none"`.
package struct HostileRequest: Sendable, CustomStringConvertible {
    package let name: String
    package let bytes: String
    package let upstream: [String]
    /// The status of the first response, when one is expected.
    package let status: Int?
    /// The input turns bad part-way through a body: whether the start of the request went up
    /// before the parser found the fault depends on how the bytes arrived, so the upstream sees
    /// either `upstream` (cut off) or nothing.
    package let faultInBody: Bool

    package var description: String { name }

    package init(name: String, bytes: String, upstream: [String], status: Int?, faultInBody: Bool = false) {
        self.name = name
        self.bytes = bytes
        self.upstream = upstream
        self.status = status
        self.faultInBody = faultInBody
    }

    /// Whether what the upstream received is what this input allows.
    package func allows(_ received: [String]) -> Bool {
        received == upstream || (faultInBody && received.isEmpty)
    }
}

extension HostileRequest {
    package static let smuggled = "GET /admin HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\nX-Portcullis-Role: super_admin\r\n\r\n"

    package static let corpus: [HostileRequest] = [
        // The first way in: framing listed in Connection.
        .init(name: "CL listed in Connection on a GET: a GET body is refused",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(smuggled)",
              upstream: [], status: 400),
        .init(name: "CL listed in Connection on a POST",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\nConnection: keep-alive, Content-Length\r\n\r\n\(smuggled)",
              upstream: ["POST / length \(smuggled.utf8.count)"], status: 200),
        .init(name: "TE listed in Connection on a POST",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: 200),
        .init(name: "Host and identity names listed in Connection",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nConnection: Host, X-Portcullis-User, X-Forwarded-For, Content-Length\r\nContent-Length: 2\r\n\r\nhi",
              upstream: ["POST / length 2"], status: 200),
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
        // The second way in, over HTTP/1.1: bodies on methods that rarely have one.
        .init(name: "GET with a length is refused", bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
              upstream: [], status: 400),
        .init(name: "HEAD with a length is refused", bytes: "HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
              upstream: [], status: 400),
        .init(name: "chunked GET is refused",
              bytes: "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(String(smuggled.utf8.count, radix: 16))\r\n\(smuggled)\r\n0\r\n\r\n",
              upstream: [], status: 400),
        .init(name: "GET with Content-Length: 0 is fine", bytes: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
              upstream: ["GET / none"], status: 200),
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
              upstream: ["POST / chunked"], status: nil, faultInBody: true),
        .init(name: "chunk extension", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: 200),
        .init(name: "negative chunk size", bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: nil, faultInBody: true),
        .init(name: "chunk size overflow",
              bytes: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nhi\r\n0\r\n\r\n",
              upstream: ["POST / chunked"], status: nil, faultInBody: true),
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
        .init(name: "HTTP/1.0 without Host (routes match on the host)", bytes: "GET / HTTP/1.0\r\n\r\n", upstream: [], status: 400),
        .init(name: "two Host headers", bytes: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", upstream: [], status: 400),
        // Identity headers in every spelling are the gateway's alone.
        .init(name: "path and method overrides some frameworks honour are dropped",
              bytes: "GET /public HTTP/1.1\r\nHost: a\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nX-HTTP-Method-Override: DELETE\r\nX-Method-Override: PUT\r\n\r\n",
              upstream: ["GET /public none"], status: 200),
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
              bytes: "POST /old HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
              upstream: ["POST /old length 2"], status: 200),
    ]
}
