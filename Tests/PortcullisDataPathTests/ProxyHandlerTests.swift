import Foundation
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisDataPathTesting
import PortcullisTestSupport
import Testing

/// The proxy handler on `EmbeddedChannel`s: the real HTTP/1.1 pipeline (llhttp) or the HTTP/2
/// stream codec in front, in-memory upstream connections behind, and the embedded loop's clock.
@Suite("Proxy handler on embedded channels")
struct ProxyHandlerTests {
    static let office = Route(
        name: "office", prefix: ["office"], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080)),
        requirement: .public, greenlist: "office"
    )

    @Test("keep-alive: two requests on one connection, one upstream connection kept for both")
    func keepAlive() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect()
        client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle()
        client.send("GET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle()
        #expect(client.text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(gateway.upstreams.connections.count == 1)
        #expect(gateway.upstreams.parsed().first?.requests.map(\.target) == ["/one", "/two"])
        #expect(client.isActive)
        #expect(gateway.accessLog.count == 2)
    }

    @Test("the upstream request carries X-Forwarded-* and exactly one Host, whatever the client sent")
    func forwardedHeaders() throws {
        let gateway = InMemoryGateway()
        let client = try gateway.connect(from: IPAddress(ipv4: 203, 0, 113, 9))
        client.send("GET /x?q=1 HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-For: 1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n\r\n")
        gateway.settle()
        let request = try #require(gateway.upstreams.parsed().first?.requests.first)
        #expect(request.target == "/x?q=1")
        #expect(request.values("host") == ["127.0.0.1:8080"])
        #expect(request.values("x-forwarded-for") == ["203.0.113.9"])
        #expect(request.values("x-real-ip") == ["203.0.113.9"])
        #expect(request.values("x-forwarded-host") == ["app.test"])
        #expect(request.values("x-forwarded-proto") == ["https"])
    }

    @Test("a stalled body: 408 at body_timeout on the loop's clock, the upstream connection closed, the client closed")
    func bodyTimeout() throws {
        var limits = ServerLimits.defaults
        limits.bodyTimeout = .seconds(20)
        let gateway = InMemoryGateway(limits: limits)
        let client = try gateway.connect()
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789")
        gateway.settle(answering: false)
        gateway.advanceTime(by: .seconds(19))
        #expect(client.text.isEmpty)
        gateway.advanceTime(by: .seconds(1))
        #expect(client.text.hasPrefix("HTTP/1.1 408 Request Timeout"))
        #expect(!client.isActive)
        #expect(gateway.upstreams.connections.allSatisfy { !$0.isActive })
        #expect(gateway.accessLog.last?.metadata["reason"] == "body_timeout")
    }

    @Test("a refusal before the body ended: Connection: close, then closed at the linger deadline")
    func refusalLingers() throws {
        let gateway = InMemoryGateway(routes: [InMemoryGateway.publicRoute, Self.office])
        let client = try gateway.connect()
        client.send("POST /office HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789")
        gateway.settle()
        #expect(client.text.hasPrefix("HTTP/1.1 403 Forbidden"))
        #expect(client.text.lowercased().contains("connection: close"))
        #expect(client.isActive)
        gateway.advanceTime(by: .seconds(5))
        #expect(!client.isActive)
        #expect(gateway.upstreams.connections.isEmpty)
    }

    @Test("idle and head deadlines on the loop's clock")
    func connectionDeadlines() throws {
        let gateway = InMemoryGateway()
        let idle = try gateway.connect()
        gateway.advanceTime(by: .seconds(74))
        #expect(idle.isActive)
        gateway.advanceTime(by: .seconds(1))
        #expect(!idle.isActive)
        let slow = try gateway.connect()
        slow.send("GET / HTTP/1.1\r\nHost: a\r\n")
        gateway.advanceTime(by: .seconds(10))
        #expect(!slow.isActive)
        #expect(gateway.upstreams.connections.isEmpty)
    }

    @Test("an upstream that refuses connections: 502 upstream_unavailable, the connection stays")
    func upstreamDown() throws {
        let gateway = InMemoryGateway()
        gateway.upstreams.refuseConnections = true
        let client = try gateway.connect()
        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        gateway.settle()
        #expect(client.text.hasPrefix("HTTP/1.1 502 Bad Gateway"))
        #expect(client.text.contains("upstream_unavailable"))
        #expect(client.isActive)
    }

    // MARK: HTTP/2 streams

    static func headers(_ method: String, _ path: String = "/", extra: [(String, String)] = []) -> HPACKHeaders {
        HPACKHeaders([(":method", method), (":path", path), (":scheme", "https"), (":authority", "app.test")] + extra)
    }

    static func frames(_ channel: EmbeddedChannel) throws -> [HTTP2Frame.FramePayload] {
        var frames: [HTTP2Frame.FramePayload] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { frames.append(frame) }
        return frames
    }

    @Test("HTTP/2: a DELETE with DATA and no content-length goes up chunked, and the answer comes back as frames")
    func http2Body() throws {
        let gateway = InMemoryGateway()
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.headers("DELETE"), endStream: false)))
        try stream.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "smuggled")), endStream: true)))
        gateway.settle()
        let request = try #require(gateway.upstreams.parsed().first?.requests.first)
        #expect(request.values("transfer-encoding") == ["chunked"])
        #expect(String(decoding: request.body, as: UTF8.self) == "smuggled")
        let frames = try Self.frames(stream)
        guard case .headers(let head) = frames.first else {
            Issue.record("no HEADERS: \(frames)")
            return
        }
        #expect(head.headers.first(name: ":status") == "200")
        #expect(!head.headers.contains(name: "connection"))
        guard case .data(let last) = frames.last else {
            Issue.record("no DATA: \(frames)")
            return
        }
        #expect(last.endStream)
    }

    @Test("HTTP/2: a host that differs from :authority is refused with 400 duplicate_host")
    func http2HostMismatch() throws {
        let gateway = InMemoryGateway()
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.headers("GET", extra: [("host", "evil.test")]), endStream: true)))
        gateway.settle()
        let frames = try Self.frames(stream)
        guard case .headers(let head) = frames.first else {
            Issue.record("no HEADERS: \(frames)")
            return
        }
        #expect(head.headers.first(name: ":status") == "400")
        #expect(head.headers.first(name: "x-portcullis-reason") == "duplicate_host")
        #expect(gateway.upstreams.connections.isEmpty)
    }

    @Test("HTTP/2: split cookie fields reach the upstream as one Cookie header")
    func http2Cookies() throws {
        let gateway = InMemoryGateway()
        let stream = try gateway.openStream()
        try stream.writeInbound(HTTP2Frame.FramePayload.headers(.init(
            headers: Self.headers("GET", extra: [("cookie", "a=1"), ("cookie", "b=2")]), endStream: true
        )))
        gateway.settle()
        #expect(gateway.upstreams.parsed().first?.requests.first?.values("cookie") == ["a=1; b=2"])
    }
}
