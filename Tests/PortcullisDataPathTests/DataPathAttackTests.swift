import Foundation
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisDataPathTesting
import Testing

/// The attacks an adversarial review of the rebuilt data path found or tried, in memory, kept as
/// regression tests: each states what must happen.
@Suite("Attacks on the data path (in memory)")
struct DataPathAttackTests {
    static let office = Route(
        name: "office", prefix: ["office"], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080)),
        requirement: .public
    )

    static func h2headers(_ method: String, _ path: String = "/", extra: [(String, String)] = []) -> HPACKHeaders {
        HPACKHeaders([(":method", method), (":path", path), (":scheme", "https"), (":authority", "app.test")] + extra)
    }

    static func frames(_ channel: EmbeddedChannel) throws -> [HTTP2Frame.FramePayload] {
        var frames: [HTTP2Frame.FramePayload] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { frames.append(frame) }
        return frames
    }

    static func proxy(_ channel: EmbeddedChannel) throws -> ProxyHandler {
        try channel.pipeline.syncOperations.handler(type: ProxyHandler.self)
    }

    // MARK: F1 — HTTP/2 stream half-open forever

    /// HEADERS without END_STREAM but with `content-length: 0`: a stream left half-open would hold
    /// a stream slot and, because a stream is open, keep the connection's idle timer off. Once the
    /// response is written the stream is closed (reset) instead.
    @Test("F1: HTTP/2 HEADERS with content-length: 0 and no END_STREAM: the stream is closed after its response")
    func http2HalfOpenStreamLivesForever() throws {
        let gateway = InMemoryGateway()
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(
            headers: Self.h2headers("GET", extra: [("content-length", "0")]), endStream: false
        )))
        gateway.settle()
        let frames = try Self.frames(stream)
        #expect(frames.count >= 2, "the upstream's answer came back: \(frames)")
        #expect(!stream.isActive, "the stream is closed once its response is written")
    }

    @Test("F1b: the same on a refused request: 404, then the stream is closed")
    func http2HalfOpenRefusal() throws {
        let gateway = InMemoryGateway(routes: [Self.office])
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(
            headers: Self.h2headers("GET", "/nothing-here", extra: [("content-length", "0")]), endStream: false
        )))
        gateway.settle()
        let frames = try Self.frames(stream)
        guard case .headers(let head) = frames.first else {
            Issue.record("no HEADERS: \(frames)")
            return
        }
        #expect(head.headers.first(name: ":status") == "404")
        #expect(!stream.isActive, "the stream is closed once its response is written")
    }

    // MARK: F2 — responses to a client that does not read

    /// The client stopped reading (its channel is not writable). Requests the gateway refuses
    /// itself need no upstream, so no upstream backpressure applies: reads stop while the client
    /// cannot take more, so nothing piles up without bound.
    @Test("F2: a client that does not read gets no more of its requests read")
    func refusalsPileUpForABlockedClient() throws {
        let protected = Route(
            name: "app", prefix: [], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080)),
            requirement: .authenticated
        )
        let gateway = InMemoryGateway(routes: [protected])
        let client = try gateway.connect()
        client.channel.isWritable = false
        client.channel.pipeline.fireChannelWritabilityChanged()
        let handler = try client.channel.pipeline.syncOperations.handler(type: ProxyHandler.self)
        let request = "GET /?\(String(repeating: "&", count: 7_000)) HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\n\r\n"
        for _ in 0..<50 {
            client.send(request)
        }
        gateway.settle()
        // What one read brought is answered; the machine asks for no more reads.
        var actions: [ProxyAction] = []
        var machine = handler.state
        machine.readRequested(now: gateway.loop.now, into: &actions)
        #expect(actions.isEmpty, "the machine asks for more reads while the client is not writable: \(actions.count)")
    }

    // MARK: F3 — the send timeout disappears once the last response is queued

    @Test("F3: Connection: close to a client that does not read: the send timeout still closes it")
    func sendTimeoutLostAfterLastResponse() {
        var h = MachineHarness()
        h.head(.GET, "/", headers: [("Host", "a"), ("Connection", "close")])
        #expect(h.run { $0.clientWritabilityChanged(isWritable: false, now: $1, into: &$2) } == [])
        h.end()
        h.forward()
        h.attached()
        h.response()
        h.responseBody("hello")
        let end = h.responseEnd()
        #expect(end.contains("client end then close"))
        // The close waits for the write to complete, which never happens if the client never reads.
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == MachineHarness.start + .seconds(60), "the send timeout still applies")
        h.advance(.seconds(60))
        #expect(h.timer() == ["close client"])
        #expect(h.machine.nextDeadline == nil)
    }

    // MARK: F4 — upstream backpressure switches off every timer

    @Test("F4: a body the upstream does not take: 504 after body_timeout, both connections closed")
    func upstreamBackpressureDisablesBodyTimeout() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789")
        gateway.settle(answering: false)
        let upstream = try #require(gateway.upstreams.connections.first)
        upstream.channel.isWritable = false
        upstream.channel.pipeline.fireChannelWritabilityChanged()
        gateway.settle(answering: false)
        let handler = try client.channel.pipeline.syncOperations.handler(type: ProxyHandler.self)
        #expect(handler.state.nextDeadline != nil, "a deadline while the upstream does not read")
        gateway.advanceTime(by: .seconds(60))
        #expect(client.text.hasPrefix("HTTP/1.1 504"))
        #expect(!client.isActive)
        #expect(!upstream.isActive)
    }

    // MARK: F5 — upstream response framing passed through inconsistently

    @Test("F5: upstream response with Content-Length and Transfer-Encoding: the client sees a length that does not match the body")
    func upstreamCLandTE() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle(answering: false)
        let upstream = try #require(gateway.upstreams.connections.first)
        upstream.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\nHTTP/1.1 200 OK\r\nX-Evil: 1\r\n\r\n\r\n0\r\n\r\n")
        gateway.settle(answering: false)
        let text = client.text
        // Whatever the gateway does, the message it sends must be framed consistently.
        if text.hasPrefix("HTTP/1.1 200") {
            let parts = text.components(separatedBy: "\r\n\r\n")
            let head = parts[0].lowercased()
            let body = text.dropFirst(parts[0].utf8.count + 4)
            if head.contains("content-length: 3") {
                #expect(body.utf8.count == 3, "Content-Length: 3 but \(body.utf8.count) body bytes follow: \(body)")
            }
        }
    }

    // MARK: F6 — HEAD response with a body from the upstream

    @Test("F6: HEAD answered with a body; the leftover is parsed as the next response on a reused connection")
    func headResponseWithBody() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle(answering: false)
        let upstream = try #require(gateway.upstreams.connections.first)
        upstream.send("HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\n")
        gateway.settle(answering: false)
        upstream.collect()
        // The upstream's body for HEAD arrives a moment later: a whole response.
        upstream.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nBAD")
        gateway.settle(answering: false)
        client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle(answering: false)
        let text = client.text
        #expect(!text.contains("BAD"), "a response the upstream sent for nothing was given to the next request")
    }

    // MARK: F7 — pipelined body bytes are not bounded by heldBodyLimit

    @Test("F7: the body of a pipelined request is bounded: reading stops, and past 1 MiB the connection closes")
    func pipelinedBodyUnbounded() {
        var h = MachineHarness()
        h.head()
        h.end()
        h.forward()
        h.attached()
        // Request 1 waits for its response; request 2 streams its body in 64 KiB reads.
        h.head(.POST, "/up", headers: [("Host", "a"), ("Content-Length", "100000000")])
        let chunk = String(repeating: "x", count: 65_536)
        var closed = false
        for _ in 0..<62 {
            if h.body(chunk).contains("close client") { closed = true }
        }
        let reads = h.run { $0.readRequested(now: $1, into: &$2) }
        #expect(closed && reads.isEmpty, "a pipelined body past the limit closes the connection and is read no further")
    }

    // MARK: probes that held (kept as regression checks)

    @Test("held: header names that dodge the identity and framing rules", arguments: [
        "X-Portcullis-User\t: root",
        "X-Portcullis_User: root",
        "x-pORTCULLIS-uSER: root",
        "X-Portcullis-User : root",
        "Content-Length : 5",
        "Transfer-Encoding\t: chunked",
    ])
    func headerSpellings(_ line: String) throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("POST / HTTP/1.1\r\nHost: a\r\n\(line)\r\nContent-Length: 2\r\n\r\nhi")
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        #expect(DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: parsed) == [])
        for request in parsed.flatMap(\.requests) {
            #expect(request.headers.allSatisfy { !$0.name.lowercased().contains("portcullis") }, "\(request.headers)")
        }
    }

    @Test("held: framing tricks", arguments: [
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhelloGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nc\"\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rx\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \tchunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000000005\r\nhello\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\u{80}Portcullis-User: root\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, Content-Length\r\nContent-Length: 4\r\n\r\nabcd",
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\nX-Portcullis-User: root\r\n\r\n",
    ])
    func framingTricks(_ bytes: String) throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send(bytes)
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        let violations = DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: parsed)
        #expect(violations == [], "\(violations)")
    }

    @Test("held: route case and normalisation", arguments: [
        "/OFFICE/x", "/%4fffice/x", "/office;x/y", "/a/../OFFICE", "/office%2fx", "/./office", "//office", "/office\\x",
    ])
    func routeCase(_ path: String) throws {
        let protected = Route(
            name: "office", prefix: ["office"], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080)),
            requirement: .authenticated
        )
        let gateway = InMemoryGateway(routes: [InMemoryGateway.publicRoute, protected])
        let client = try gateway.connect()
        client.send("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle()
        #expect(gateway.upstreams.connections.isEmpty, "\(path) reached the upstream: \(gateway.upstreams.parsed().flatMap(\.requests))")
    }

    @Test("held: HTTP/2 framing and host tricks", arguments: [
        ("GET", [("content-length", "5")], ["hello"], true),
        ("HEAD", [], ["GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"], true),
        ("DELETE", [("content-length", "0")], [], true),
    ] as [(String, [(String, String)], [String], Bool)])
    func http2Framing(_ method: String, _ extra: [(String, String)], _ data: [String], _ end: Bool) throws {
        let gateway = InMemoryGateway()
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.h2headers(method, extra: extra), endStream: data.isEmpty && end)))
        for (index, chunk) in data.enumerated() {
            try stream.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: chunk)),
                                                                       endStream: end && index == data.count - 1)))
        }
        gateway.settle()
        let parsed = gateway.upstreams.parsed()
        #expect(DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: parsed) == [])
        #expect(parsed.flatMap(\.requests).count <= 1)
    }
}
