import Foundation
import NIOCore
import NIOHTTP2
import PortcullisDataPathTesting
import PortcullisTestSupport
import Synchronization
import Testing

/// One hostile HTTP/2 stream, frame by frame, and what the upstream may receive (as in
/// ``HostileRequest``); `nil` leaves the count to the invariants alone (the stream is refused
/// part-way, so a cut-off head may or may not have gone up).
struct HostileStream: Sendable, CustomTestStringConvertible {
    let name: String
    let frames: [RawHTTP2Client.Frame]
    let upstream: [String]?
    let status: String?

    var testDescription: String { name }

    static func head(_ method: String, _ path: String = "/", extra: [(String, String)] = []) -> [(String, String)] {
        [(":method", method), (":path", path), (":scheme", "https"), (":authority", "localhost")] + extra
    }

    static let smuggled = HostileRequest.smuggled

    static let corpus: [HostileStream] = [
        // The issue's second way in: DATA on GET, HEAD or DELETE without content-length. A body on
        // GET or HEAD is refused; on DELETE it travels chunked.
        .init(name: "GET with DATA and no content-length",
              frames: [.headers(head("GET"), endStream: false), .data(smuggled, endStream: true)], upstream: [], status: "400"),
        .init(name: "HEAD with DATA and no content-length",
              frames: [.headers(head("HEAD"), endStream: false), .data(smuggled, endStream: true)], upstream: [], status: "400"),
        .init(name: "DELETE with DATA and no content-length",
              frames: [.headers(head("DELETE", "/item"), endStream: false), .data(smuggled, endStream: true)],
              upstream: ["DELETE /item chunked"], status: "200"),
        .init(name: "OPTIONS with a content-length",
              frames: [.headers(head("OPTIONS", extra: [("content-length", "4")]), endStream: false), .data("body", endStream: true)],
              upstream: ["OPTIONS / length 4"], status: "200"),
        .init(name: "POST in several DATA frames",
              frames: [.headers(head("POST"), endStream: false), .data("ab", endStream: false), .data("cd", endStream: false), .data("", endStream: true)],
              upstream: ["POST / chunked"], status: "200"),
        .init(name: "GET that ends with its HEADERS", frames: [.headers(head("GET"), endStream: true)], upstream: ["GET / none"], status: "200"),
        .init(name: "GET whose body is one empty DATA frame: no body",
              frames: [.headers(head("GET"), endStream: false), .data("", endStream: true)], upstream: ["GET / none"], status: "200"),
        .init(name: "GET with content-length: 0 that never ends its stream",
              frames: [.headers(head("GET", extra: [("content-length", "0")]), endStream: false)], upstream: ["GET / none"], status: "200"),
        .init(name: "a lower-case connect method", frames: [.headers([(":method", "connect"), (":path", "/"), (":scheme", "https"),
                                                                       (":authority", "localhost")], endStream: true)],
              upstream: [], status: nil),
        // Lengths that lie: HTTP/2 checks DATA against content-length and resets the stream.
        .init(name: "more DATA than content-length",
              frames: [.headers(head("POST", extra: [("content-length", "5")]), endStream: false), .data("hello" + smuggled, endStream: true)],
              upstream: nil, status: nil),
        .init(name: "less DATA than content-length",
              frames: [.headers(head("POST", extra: [("content-length", "500")]), endStream: false), .data("hello", endStream: true)],
              upstream: nil, status: nil),
        // Host against :authority.
        .init(name: "host that differs from :authority",
              frames: [.headers(head("GET", extra: [("host", "evil.test")]), endStream: true)], upstream: [], status: "400"),
        .init(name: "host equal to :authority", frames: [.headers(head("GET", extra: [("host", "LOCALHOST")]), endStream: true)],
              upstream: ["GET / none"], status: "200"),
        .init(name: "neither :authority nor host",
              frames: [.headers([(":method", "GET"), (":path", "/"), (":scheme", "https")], endStream: true)], upstream: [], status: "400"),
        .init(name: "host without :authority",
              frames: [.headers([(":method", "GET"), (":path", "/"), (":scheme", "https"), ("host", "localhost")], endStream: true)],
              upstream: ["GET / none"], status: "200"),
        // Headers HTTP/2 forbids from clients: the stream is refused before it is decided.
        .init(name: "transfer-encoding from the client",
              frames: [.headers(head("POST", extra: [("transfer-encoding", "chunked")]), endStream: false), .data("0\r\n\r\n", endStream: true)],
              upstream: [], status: nil),
        .init(name: "connection header", frames: [.headers(head("GET", extra: [("connection", "content-length")]), endStream: true)],
              upstream: [], status: nil),
        .init(name: "upper-case header name", frames: [.headers(head("GET", extra: [("X-Portcullis-User", "root")]), endStream: true)],
              upstream: [], status: nil),
        // Identity is the gateway's alone, in headers and in trailers.
        .init(name: "forged identity headers",
              frames: [.headers(head("GET", extra: [("x-portcullis-user", "root"), ("x-portcullis-role", "super_admin"), ("x-forwarded-user", "root")]),
                                endStream: true)],
              upstream: ["GET / none"], status: "200"),
        .init(name: "identity headers in trailers",
              frames: [.headers(head("POST"), endStream: false), .data("hi", endStream: false),
                       .headers([("x-portcullis-user", "root")], endStream: true)],
              upstream: ["POST / chunked"], status: "200"),
        .init(name: "split cookie fields are joined into one",
              frames: [.headers(head("GET", extra: [("cookie", "a=1"), ("cookie", "b=2")]), endStream: true)], upstream: ["GET / none"], status: "200"),
        .init(name: "a path that is not origin-form", frames: [.headers(head("GET", "http://evil.test/admin"), endStream: true)],
              upstream: [], status: "400"),
    ]
}

extension ServerTests {
/// The differential test over real sockets: hostile requests through `portcullis`'s listener
/// (TLS, HTTP/1.1 and HTTP/2 with hand-built frames) to a recording upstream that parses what
/// it receives with a parser of its own, and to a real nginx. For every input, the upstream sees
/// exactly the requests the access log shows, never one more, and never an identity header the
/// gateway did not set.
@Suite("Request smuggling, differential, over real sockets")
struct SmugglingDifferentialTests {
    static func routes(to port: Int) -> String {
        """
              - { name: app, path: /, upstream: "http://127.0.0.1:\(port)", require: public }
            """
    }

    static func accessLog(_ gateway: TestGateway) -> [LogRecorder.Entry] {
        gateway.logs.all.filter { $0.label == "portcullis.access" && $0.message == "request" }
    }

    static func describe(_ request: UpstreamRequestParser.Request) -> String {
        HostileRequestCorpusDescription.describe(request)
    }

    @Test("HTTP/1.1 over TLS", arguments: HostileRequest.corpus)
    func http1(_ input: HostileRequest) async throws {
        let upstream = try await RecordingUpstream.start()
        let gateway = try await TestGateway.start(routes: Self.routes(to: upstream.port))
        defer { Task { await gateway.stop(); await upstream.close() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send(input.bytes)
        let expectedResponses = max(1, input.upstream.count)
        _ = await client.wait(timeout: .seconds(3)) { text in
            text.components(separatedBy: "HTTP/1.1 ").count - 1 >= expectedResponses && text.hasSuffix("ok")
        }
        try await Task.sleep(for: .milliseconds(100))
        await client.close()
        let parsed = upstream.parsed
        let violations = DataPathInvariants.violations(accessLog: Self.accessLog(gateway), upstream: parsed)
        #expect(violations == [], "\(input.name): \(violations)")
        let received = parsed.flatMap { $0.requests + ($0.partial.map { [$0] } ?? []) }
        #expect(input.allows(received.map(Self.describe)), "\(input.name): \(received.map(Self.describe))")
        if let status = input.status {
            #expect(client.text.hasPrefix("HTTP/1.1 \(status) "), "\(input.name): \(client.text.prefix(200))")
        }
    }

    @Test("HTTP/2 with hand-built frames", arguments: HostileStream.corpus)
    func http2(_ input: HostileStream) async throws {
        let upstream = try await RecordingUpstream.start()
        let gateway = try await TestGateway.start(routes: Self.routes(to: upstream.port))
        defer { Task { await gateway.stop(); await upstream.close() } }
        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let stream = try await client.send(input.frames)
        await stream.waitForEnd(timeout: .seconds(3))
        try await Task.sleep(for: .milliseconds(100))
        await client.close()
        let parsed = upstream.parsed
        let violations = DataPathInvariants.violations(accessLog: Self.accessLog(gateway), upstream: parsed)
        #expect(violations == [], "\(input.name): \(violations)")
        let received = parsed.flatMap { $0.requests + ($0.partial.map { [$0] } ?? []) }
        if let expected = input.upstream {
            #expect(received.map(Self.describe) == expected, "\(input.name)")
        }
        if let status = input.status {
            #expect(stream.status == status, "\(input.name): \(stream.frames.withLock { $0 })")
        }
        if input.name.contains("cookie") {
            #expect(received.first?.values("cookie") == ["a=1; b=2"])
        }
        if input.name.contains("trailers") {
            #expect(received.first.map { String(decoding: $0.body, as: UTF8.self) } == "hi")
        }
    }

    @Test("HTTP/2: a stream whose body stalls is answered 408 after body_timeout")
    func http2BodyTimeout() async throws {
        let upstream = try await RecordingUpstream.start()
        let gateway = try await TestGateway.start(routes: Self.routes(to: upstream.port), serverExtra: "  limits: { body_timeout: 1s }")
        defer { Task { await gateway.stop(); await upstream.close() } }
        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let started = ContinuousClock.now
        let stream = try await client.send([.headers(HostileStream.head("POST", extra: [("content-length", "100")]), endStream: false),
                                            .data("0123456789", endStream: false)])
        await stream.waitForEnd(timeout: .seconds(5))
        #expect(stream.status == "408", "\(stream.frames.withLock { $0 })")
        #expect(ContinuousClock.now - started < .seconds(4))
        await client.close()
    }

    @Test("HTTP/2: a stream with no bytes either way for stream_idle_timeout is ended")
    func http2StreamIdle() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { stream_idle_timeout: 1s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let started = ContinuousClock.now
        // The test upstream never answers /hang; the request is complete, so only the idle timer runs.
        let stream = try await client.send([.headers(HostileStream.head("GET", "/hang"), endStream: true)])
        await stream.waitForEnd(timeout: .seconds(5))
        #expect(stream.closed.withLock { $0 })
        #expect(ContinuousClock.now - started < .seconds(4))
        await client.close()
    }

    @Test("HTTP/1.1 corpus against a real nginx upstream: nginx parses exactly the requests the access log shows")
    func http1AgainstNginx() async throws {
        let nginx = try NginxUpstream.start()
        defer { nginx.stop() }
        let gateway = try await TestGateway.start(routes: Self.routes(to: nginx.port))
        defer { Task { await gateway.stop() } }
        for input in HostileRequest.corpus {
            let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
            try await client.send(input.bytes)
            _ = await client.wait(timeout: .seconds(2)) { text in
                text.components(separatedBy: "HTTP/1.1 ").count - 1 >= max(1, input.upstream.count) && text.hasSuffix("ok")
            }
            await client.close()
        }
        try await Task.sleep(for: .milliseconds(300))
        var available = Self.accessLog(gateway).compactMap { entry -> String? in
            guard let route = entry.metadata["route"], route != "-",
                  !["unauthenticated", "forbidden", "not_found", "method_not_allowed"].contains(entry.metadata["decision"] ?? "")
            else { return nil }
            return "\(entry.metadata["method"] ?? "") \(entry.metadata["path"] ?? "")"
        }
        let lines = try nginx.accessLog()
        #expect(!lines.isEmpty)
        for line in lines {
            // "$request_method $uri user=$http_x_portcullis_user role=$http_x_portcullis_role"
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 4 else {
                Issue.record("nginx logged \(line)")
                continue
            }
            let request = "\(fields[0]) \(fields[1])"
            if let index = available.firstIndex(of: request) {
                available.remove(at: index)
            } else {
                Issue.record("nginx received \(request), which the access log does not show as let through")
            }
            #expect(fields[2] == "user=-" && fields[3] == "role=-", "nginx saw an identity header: \(line)")
        }
        let most = HostileRequest.corpus.reduce(0) { $0 + $1.upstream.count }
        let least = HostileRequest.corpus.reduce(0) { $0 + ($1.faultInBody ? 0 : $1.upstream.count) }
        #expect((least...most).contains(lines.count), "nginx parsed \(lines.count) requests")
    }
}
}

/// Describes a request the way the corpus does: `"GET / length 44"`.
enum HostileRequestCorpusDescription {
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
}
