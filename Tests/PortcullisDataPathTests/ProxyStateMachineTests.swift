import NIOCore
@testable import PortcullisDataPath
import NIOHTTP1
import Testing

@Suite("Proxy state machine: one exchange, transition by transition")
struct ProxyStateMachineTests {
    @Test("a GET is decided, connected, forwarded and answered; the connection is kept and idles")
    func simpleGET() {
        var h = MachineHarness()
        #expect(h.head() == ["decide #1 GET none"])
        #expect(h.end() == [])
        #expect(h.forward() == ["connect #1"])
        #expect(h.attached() == ["upstream reads on", "upstream head GET /", "upstream end", "flush upstream"])
        #expect(h.response() == ["client head 200"])
        #expect(h.responseBody("hello") == ["client body 5"])
        #expect(h.run { $0.upstreamReadComplete(into: &$2) } == ["flush client"])
        #expect(h.responseEnd() == ["release reusable", "client end", "flush client", "log 200 allow public_route"])
        #expect(h.machine.state == .idle(deadline: h.now + .seconds(75)))
        #expect(h.machine.exchange == nil)
    }

    @Test("a body that arrives while the request is decided waits, then goes up in order after the head")
    func heldBody() {
        var h = MachineHarness()
        #expect(h.head(.POST, headers: [("Host", "a"), ("Content-Length", "6")]) == ["decide #1 POST length(6)"])
        #expect(h.body("abc") == [])
        #expect(h.body("def") == [])
        #expect(h.end() == [])
        #expect(h.forward(method: .POST) == ["connect #1"])
        #expect(h.attached() == [
            "upstream reads on", "upstream head POST /", "upstream body abc", "upstream body def", "upstream end", "flush upstream",
        ])
    }

    @Test("reads wait while a request is decided and connected, and resume once it streams")
    func readsFollowTheExchange() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Transfer-Encoding", "chunked")])
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == [])
        h.forward(method: .POST)
        #expect(h.attached().last == "read")
        #expect(h.body("x") == ["upstream body x"])
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == ["read"])
        // The upstream cannot take more: reading stops until it can.
        #expect(h.run { $0.upstreamWritabilityChanged(isWritable: false, now: $1, into: &$2) } == [])
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == [])
        #expect(h.run { $0.upstreamWritabilityChanged(isWritable: true, now: $1, into: &$2) } == ["read"])
    }

    @Test("the client cannot take more: the upstream is held, and released when it can")
    func clientBackpressure() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        #expect(h.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) } == ["upstream reads off"])
        #expect(h.run { $0.clientWritabilityChanged(isWritable: true, now: $1, into: &$2) } == ["upstream reads on"])
    }

    // MARK: framing

    @Test("framing the parser would not trust is answered 400 and the connection closes, nothing decided", arguments: [
        ([("Host", "a"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")], "ambiguous_framing"),
        ([("Host", "a"), ("Transfer-Encoding", "gzip, chunked")], "unsupported_transfer_encoding"),
        ([("Host", "a"), ("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], "unsupported_transfer_encoding"),
        ([("Host", "a"), ("Content-Length", "5"), ("Content-Length", "6")], "bad_content_length"),
        ([("Host", "a"), ("Content-Length", "+5")], "bad_content_length"),
        ([("Host", "a"), ("Content-Length", "0x10")], "bad_content_length"),
        ([("Content-Length", "0")], "missing_host"),
        ([("Host", "a"), ("host", "b")], "duplicate_host"),
    ])
    func badFraming(_ headers: [(String, String)], _ reason: String) {
        var h = MachineHarness()
        #expect(h.head(.POST, headers: headers) == [
            "client head 400 (close)", "client body \(badRequestBodyLength(reason))", "client end then close", "log 400 bad_request \(reason)",
        ])
        #expect(h.machine.state == .closed)
        // Whatever follows is never forwarded.
        #expect(h.body("GET /smuggled HTTP/1.1") == [])
        #expect(h.end() == [])
    }

    private func badRequestBodyLength(_ reason: String) -> Int {
        let message = reason == "missing_host" || reason == "duplicate_host"
            ? "the request must name exactly one host" : "the request's length cannot be determined safely"
        return RefusalResponse.make(kind: .badRequest, reason: reason, message: message, html: false, loginLocation: nil,
                                    hsts: "max-age=60", allocator: ByteBufferAllocator()).1.readableBytes
    }

    @Test("HTTP/1.0 needs a Host too (routes match on it); chunked on HTTP/1.0 is refused")
    func http10() {
        var h = MachineHarness()
        #expect(h.head(version: .http1_0) == ["decide #1 GET none"])
        var hostless = MachineHarness()
        #expect(hostless.head(headers: [], version: .http1_0).last == "log 400 bad_request missing_host")
        var stream = MachineHarness(http1: false)
        #expect(stream.head(headers: [], version: .init(major: 2, minor: 0)).last == "log 400 bad_request missing_host")
        var chunked = MachineHarness()
        #expect(chunked.head(.POST, headers: [("Transfer-Encoding", "chunked")], version: .http1_0).last
            == "log 400 bad_request unsupported_transfer_encoding")
    }

    @Test("body bytes on a request the parser framed without a body close the connection")
    func unframedBody() {
        var h = MachineHarness()
        h.head()
        h.forward()
        h.attached()
        #expect(h.body("GET /smuggled HTTP/1.1\r\n\r\n") == ["release closing", "log 0 aborted unframed_body", "close client"])
    }

    // MARK: refusals

    @Test("a refusal of a complete request keeps the connection")
    func refusalKeepsConnection() {
        var h = MachineHarness()
        h.head()
        h.end()
        #expect(h.refuse() == ["client head 401", "client body 2", "client end", "flush client", "log 401 unauthenticated login_required"])
        #expect(h.machine.state == .idle(deadline: h.now + .seconds(75)))
    }

    @Test("a request without a body refused before the decoder's end marker keeps the connection")
    func refusalBeforeEndMarker() {
        var h = MachineHarness()
        h.head()
        #expect(h.refuse() == ["client head 401", "client body 2", "client end", "flush client", "log 401 unauthenticated login_required"])
        #expect(h.end() == [])
        #expect(h.machine.state == .idle(deadline: h.now + .seconds(75)))
        #expect(h.head() == ["decide #2 GET none"])
    }

    @Test("a refusal before the body ended closes after it, reading only a little more")
    func refusalLingers() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "1000000")])
        h.body("0123456789")
        #expect(h.refuse() == [
            "client head 401 (close)", "client body 2", "client end", "flush client", "log 401 unauthenticated login_required",
        ])
        guard case .lingering = h.machine.state else {
            Issue.record("expected lingering, got \(h.machine.state)")
            return
        }
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == ["read"])
        #expect(h.body(String(repeating: "x", count: 60_000)) == [])
        #expect(h.body(String(repeating: "x", count: 10_000)) == ["close client"])
        #expect(h.machine.state == .closed)
    }

    @Test("a refused request whose client goes silent is closed at the linger deadline")
    func refusalStalls() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "1000000")])
        h.body("0123456789")
        h.refuse()
        #expect(h.machine.nextDeadline == h.now + .seconds(5))
        h.advance(.seconds(5))
        #expect(h.timer() == ["close client"])
    }

    @Test("a refused request whose body ends while lingering closes at once")
    func refusalBodyEnds() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "3")])
        h.refuse()
        h.body("abc")
        #expect(h.end() == ["close client"])
    }

    // MARK: deadlines

    @Test("idle, then the head deadline once bytes arrive")
    func idleAndHeadDeadlines() {
        var h = MachineHarness()
        #expect(h.machine.nextDeadline == h.now + .seconds(75))
        h.advance(.seconds(1))
        h.machine.bytesReceived(now: h.now)
        #expect(h.machine.nextDeadline == h.now + .seconds(10))
        h.advance(.seconds(9))
        #expect(h.timer() == [])
        h.advance(.seconds(1))
        #expect(h.timer() == ["close client"])
    }

    @Test("a stalled request body: 408 and close when nothing came for body_timeout")
    func bodyTimeout() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "1000000")])
        h.forward(method: .POST)
        h.attached()
        h.advance(.seconds(30))
        h.body("0123456789")
        #expect(h.machine.nextDeadline == h.now + .seconds(60))
        h.advance(.seconds(59))
        #expect(h.timer() == [])
        h.advance(.seconds(1))
        #expect(h.timer() == [
            "release closing", "client head 408 (close)", "client body \(timeoutBodyLength)", "client end then close",
            "log 408 request_timeout body_timeout",
        ])
        #expect(h.machine.state == .closed)
    }

    private var timeoutBodyLength: Int {
        RefusalResponse.make(kind: .requestTimeout, reason: "body_timeout", message: "the request was not received in time",
                             html: false, loginLocation: nil, hsts: "max-age=60", allocator: ByteBufferAllocator()).1.readableBytes
    }

    @Test("the body deadline waits while the upstream cannot take more, and counts again from when it can")
    func bodyTimeoutPausedByBackpressure() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "100")])
        h.forward(method: .POST)
        h.attached()
        h.run { $0.upstreamWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        h.advance(.seconds(59))
        #expect(h.timer() == [])
        h.run { $0.readRequested(now: $1, into: &$2) }
        #expect(h.run { $0.upstreamWritabilityChanged(isWritable: true, now: $1, into: &$2) } == ["read"])
        #expect(h.machine.nextDeadline == h.now + .seconds(60))
    }

    @Test("an upstream that takes none of the body for body_timeout: 504 and close (nginx's proxy_send_timeout)")
    func upstreamSendTimeout() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "100")])
        h.forward(method: .POST)
        h.attached()
        h.run { $0.upstreamWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        #expect(h.machine.nextDeadline == h.now + .seconds(60))
        h.advance(.seconds(60))
        let actions = h.timer()
        #expect(actions.prefix(2) == ["upstream error app timeout", "release closing"])
        #expect(actions.last == "log 504 gateway_timeout upstream_timeout")
        #expect(actions.contains("client end then close"))
    }

    @Test("a client that leaves the response unread for send_timeout is closed")
    func sendTimeout() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        h.response()
        h.responseBody("hello")
        h.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        h.advance(.seconds(30))
        #expect(h.timer() == [])
        // Still blocked: the deadline counts from when it first blocked.
        h.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        h.advance(.seconds(30))
        #expect(h.timer() == ["release closing", "log 200 aborted send_timeout", "close client"])
    }

    @Test("requests that arrive while the client reads none of its answers wait, bounded, and start when it reads")
    func pipelineWaitsForAReadingClient() {
        var h = MachineHarness()
        h.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        #expect(h.head() == [])
        #expect(h.end() == [])
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == [])
        #expect(h.run { $0.clientWritabilityChanged(isWritable: true, now: $1, into: &$2) } == ["decide #1 GET none", "read"])
        // A flood while blocked: past the pipeline bound the connection closes.
        var h2 = MachineHarness()
        h2.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) }
        var closed = false
        for _ in 0..<200 where !closed {
            closed = (h2.head() + h2.end()).contains("close client")
        }
        #expect(closed)
    }

    @Test("an upstream that does not answer in time: 504, and the connection stays")
    func responseTimeout() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        h.advance(.seconds(30))
        let actions = h.timer()
        #expect(actions.first == "upstream error app timeout")
        #expect(actions.contains("release closing"))
        #expect(actions.contains("client head 504"))
        #expect(actions.last == "log 504 gateway_timeout upstream_timeout")
        #expect(h.machine.state == .idle(deadline: h.now + .seconds(75)))
    }

    // MARK: the upstream

    @Test("a kept connection the upstream had closed is retried once on a fresh one, then 502")
    func retryOnce() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached(reused: true)
        #expect(h.run { $0.upstreamClosed(now: $1, into: &$2) } == ["release closing", "connect #1 fresh"])
        h.attached(reused: false)
        let actions = h.run { $0.upstreamClosed(now: $1, into: &$2) }
        #expect(actions.prefix(2) == ["upstream error app reset", "release closing"])
        #expect(actions.last == "log 502 bad_gateway upstream_unavailable")
    }

    @Test("a request with a body is never retried: it may have been read")
    func noRetryWithBody() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "3")])
        h.body("abc")
        h.end()
        h.forward(method: .POST)
        h.attached(reused: true)
        #expect(h.run { $0.upstreamClosed(now: $1, into: &$2) }.last == "log 502 bad_gateway upstream_unavailable")
    }

    @Test("an upstream that closes in the middle of a response aborts the exchange")
    func upstreamClosesMidResponse() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        h.response()
        #expect(h.run { $0.upstreamClosed(now: $1, into: &$2) } == [
            "upstream error app reset", "release closing", "log 200 aborted upstream_closed", "close client",
        ])
    }

    @Test("an answer before the request body ended closes the connection, and its upstream is not reused")
    func earlyResponse() {
        var h = MachineHarness()
        h.head(.POST, headers: [("Host", "a"), ("Content-Length", "100")])
        h.forward(method: .POST)
        h.attached()
        #expect(h.response(.payloadTooLarge) == ["client head 413 (close)"])
        #expect(h.responseEnd() == ["release closing", "client end then close", "log 413 allow public_route"])
    }

    @Test("an upstream response that ends at close, or says Connection: close, is never reused", arguments: [
        [("Connection", "close"), ("Content-Length", "0")],
        [("Content-Type", "text/plain")],
    ])
    func notReusable(_ headers: [(String, String)]) {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        h.response(headers: headers)
        #expect(h.responseEnd().first == "release closing")
    }

    @Test("a late decision or connection for an exchange that is gone changes nothing")
    func staleAnswers() {
        var h = MachineHarness()
        h.head()
        h.end()
        #expect(h.forward(7) == [])
        #expect(!h.machine.awaitsUpstream(ExchangeID(value: 1)))
        h.forward(1)
        #expect(h.attached(2) == [])
        #expect(h.run { $0.upstreamConnectFailed(ExchangeID(value: 2), now: $1, into: &$2) } == [])
    }

    @Test("the client goes away mid-exchange: the upstream connection is closed and the exchange logged")
    func clientCloses() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        #expect(h.run { $0.clientClosed(now: $1, into: &$2) } == ["release closing", "log 0 aborted client_closed"])
        #expect(h.machine.state == .closed)
    }

    // MARK: pipelining and shutdown

    @Test("a pipelined request waits for the one in flight, then starts")
    func pipelining() {
        var h = MachineHarness()
        h.head()
        h.end()
        #expect(h.head(.GET, "/second") == [])
        #expect(h.end() == [])
        h.forward()
        h.attached()
        h.response()
        let actions = h.responseEnd()
        #expect(actions.suffix(2) == ["log 200 allow public_route", "decide #2 GET none"])
        #expect(h.machine.state == .busy)
    }

    @Test("too many pipelined parts stop reading, and overflowing them closes")
    func pipelineLimit() {
        var h = MachineHarness { $0.pipelineLimit = 2 }
        h.head()
        h.end()
        h.head()
        h.end()
        #expect(h.run { $0.readRequested(now: $1, into: &$2) } == [])
        // What one read already decoded is held, up to four times the limit.
        for _ in 0..<3 {
            h.head()
            h.end()
        }
        #expect(h.head() == ["log 0 aborted pipeline_overflow", "close client"])
    }

    @Test("shutdown closes an idle connection now and a busy one after its response")
    func quiesce() {
        var idle = MachineHarness()
        #expect(idle.run { machine, _, actions in machine.quiesce(into: &actions) } == ["close client"])
        var busy = MachineHarness()
        busy.head()
        busy.end()
        #expect(busy.run { machine, _, actions in machine.quiesce(into: &actions) } == [])
        busy.forward()
        busy.attached()
        #expect(busy.response() == ["client head 200 (close)"])
        // The upstream connection is fine: it goes back to the pool while the client's closes.
        #expect(busy.responseEnd() == ["release reusable", "client end then close", "log 200 allow public_route"])
    }

    @Test("Connection: close from the client closes after the response")
    func clientAsksToClose() {
        var h = MachineHarness()
        h.head(headers: [("Host", "a"), ("Connection", "close")])
        h.end()
        h.forward()
        h.attached()
        #expect(h.response() == ["client head 200 (close)"])
    }

    @Test("Expect: 100-continue is answered by the gateway once the request is allowed")
    func expectContinue() {
        var h = MachineHarness()
        h.head(.PUT, headers: [("Host", "a"), ("Content-Length", "3"), ("Expect", "100-continue")])
        #expect(h.forward(method: .PUT) == ["client head 100", "flush client", "connect #1"])
    }

    // MARK: WebSocket and long responses

    @Test("a WebSocket upgrade: the 101 goes to the client and the tunnel starts when its message ends")
    func upgrade() {
        var h = MachineHarness()
        h.head(headers: [("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket")])
        h.end()
        // On a new upstream connection, never a pooled one (NIO-based servers upgrade only a
        // connection's first request).
        #expect(h.forward(upgrade: true).contains("connect #1 fresh"))
        h.attached()
        #expect(h.response(.switchingProtocols, headers: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ]) == ["client head 101 (Upgrade)", "flush client"])
        #expect(h.responseEnd() == ["log 101 allow public_route", "start tunnel"])
        #expect(h.machine.state == .tunnelled)
    }

    /// Review round 9: a 101 that does not answer the client's key (no `Upgrade: websocket`,
    /// no or a wrong `Sec-WebSocket-Accept`, or two of either) is an app endpoint relaying a
    /// status, not a WebSocket server: no tunnel, a 502.
    @Test("a 101 that does not answer the WebSocket handshake is a bad gateway, never a tunnel", arguments: [
        [(String, String)](),
        [("Upgrade", "websocket")],
        [("Upgrade", "websocket"), ("Sec-WebSocket-Accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")],
        [("Upgrade", "h2c"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")],
        [("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")],
        [("Upgrade", "websocket"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")],
    ])
    func upgradeNotAnswered(_ headers: [(String, String)]) {
        var h = MachineHarness()
        h.head(headers: [("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket")])
        h.end()
        h.forward(upgrade: true)
        h.attached()
        let actions = h.response(.switchingProtocols, headers: headers)
        #expect(actions.first == "upstream error app protocol")
        #expect(actions.last == "log 502 bad_gateway upstream_protocol_error")
        #expect(h.machine.state != .tunnelled && h.machine.state != .upgrading)
    }

    @Test("the handshake's accept value is RFC 6455's, and a key must be one base64 of 16 bytes")
    func handshakeValues() {
        #expect(WebSocketHandshake.accept(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(WebSocketHandshake.key(["Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="]) == "dGhlIHNhbXBsZSBub25jZQ==")
        for headers: HTTPHeaders in [[:], ["Sec-WebSocket-Key": "short"], HTTPHeaders([("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]),
                                     ["Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ"], ["Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!=="]] {
            #expect(WebSocketHandshake.key(headers) == nil, "\(headers)")
        }
    }

    @Test("a 101 nobody asked for is a bad gateway")
    func unaskedUpgrade() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        let actions = h.response(.switchingProtocols, headers: [("Upgrade", "h2c")])
        #expect(actions.first == "upstream error app protocol")
        #expect(actions.last == "log 502 bad_gateway upstream_protocol_error")
    }

    @Test("a long response that carries an identity checks its credential again and ends when it is revoked")
    func revalidation() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward(identity: "user-1")
        h.attached()
        h.response(headers: [("Transfer-Encoding", "chunked")])
        #expect(h.machine.nextDeadline == h.now + .seconds(2))
        h.advance(.seconds(2))
        #expect(h.timer() == ["revalidate #1 user-1"])
        #expect(h.run { $0.credentialChecked(ExchangeID(value: 1), stillValid: true, now: $1, into: &$2) } == [])
        h.advance(.seconds(2))
        #expect(h.timer() == ["revalidate #1 user-1"])
        #expect(h.run { $0.credentialChecked(ExchangeID(value: 1), stillValid: false, now: $1, into: &$2) } == [
            "release closing", "log 200 aborted credential_ended", "close client",
        ])
    }

    // MARK: HTTP/2 streams

    @Test("an HTTP/2 stream serves one exchange and is done")
    func http2Stream() {
        var h = MachineHarness(http1: false)
        h.head(headers: [("host", "a")], version: .init(major: 2, minor: 0))
        h.end()
        h.forward()
        h.attached()
        #expect(h.response() == ["client head 200"])
        #expect(h.responseEnd() == ["release reusable", "client end", "flush client", "log 200 allow public_route"])
        #expect(h.machine.state == .closed)
    }

    @Test("an HTTP/2 stream refused before its body ended is reset after the refusal")
    func http2Refusal() {
        var h = MachineHarness(http1: false)
        h.head(.POST, headers: [("host", "a"), ("transfer-encoding", "chunked")], version: .init(major: 2, minor: 0))
        #expect(h.refuse() == ["client head 401", "client body 2", "client end then close", "log 401 unauthenticated login_required"])
    }

    @Test("an HTTP/2 stream with no bytes either way for the stream idle timeout is answered 408 and reset")
    func http2StreamIdle() {
        var h = MachineHarness(http1: false) { $0.idleTimeout = .seconds(20) }
        h.head(.POST, headers: [("host", "a"), ("content-length", "10")], version: .init(major: 2, minor: 0))
        h.forward(method: .POST)
        h.attached()
        h.advance(.seconds(20))
        #expect(h.timer().last == "log 408 request_timeout stream_idle_timeout")
    }

    @Test("garbage after a complete request waits for that request's answer, then is refused and closes")
    func garbageAfterRequest() {
        var h = MachineHarness()
        h.head()
        h.end()
        #expect(h.run { $0.requestUnparsable(headersTooLarge: false, now: $1, into: &$2) } == [])
        h.forward()
        h.attached()
        h.response()
        let actions = h.responseEnd()
        #expect(actions.contains("log 200 allow public_route"))
        #expect(actions.suffix(2) == ["client end then close", "log 400 bad_request malformed_request"])
        #expect(h.machine.state == .closed)
    }

    @Test("parse errors: 400 and close when idle; 431 for a head too large")
    func unparsable() {
        var h = MachineHarness()
        #expect(h.run { $0.requestUnparsable(headersTooLarge: true, now: $1, into: &$2) }.last == "log 431 bad_request headers_too_large")
        #expect(h.machine.state == .closed)
        var busy = MachineHarness()
        busy.head(.POST, headers: [("Host", "a"), ("Transfer-Encoding", "chunked")])
        busy.forward(method: .POST)
        busy.attached()
        let actions = busy.run { $0.requestUnparsable(headersTooLarge: false, now: $1, into: &$2) }
        #expect(actions.first == "release closing")
        #expect(actions.contains("client end then close"))
    }
}
