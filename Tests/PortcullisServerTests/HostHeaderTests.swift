import Foundation
import NIOCore
import PortcullisCore
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
/// Routes match on the host, so a request must name one, and the upstream learns the host the
/// route matched, never one the client made up (issue 21 item 12). Over real sockets: raw bytes
/// for HTTP/1.x, hand-built frames for HTTP/2, and the echo upstream to show what arrived.
@Suite("The host a request names")
struct HostHeaderTests {
    static let routes = """
          - { name: app-host, host: app.test, path: /, upstream: "{UPSTREAM}", require: public }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
        """

    /// The status line, the reason header and whether the upstream was reached.
    static func ask(_ gateway: TestGateway, _ request: String) async throws -> (head: String, reachedUpstream: Bool) {
        let before = gateway.upstream.received.withLock { $0.count }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send(request)
        let text = await client.wait(timeout: .seconds(5)) { $0.contains("\r\n\r\n") }
        _ = await client.waitForClose(timeout: .seconds(2))
        await client.close()
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        return (head, gateway.upstream.received.withLock { $0.count } > before)
    }

    static func echo(of text: String) throws -> TestUpstream.Echo {
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(body.utf8))
    }

    @Test("HTTP/1.1 and HTTP/1.0 without Host are refused 400 missing_host, and nothing goes upstream",
          arguments: ["GET /echo HTTP/1.1\r\n\r\n", "GET /echo HTTP/1.0\r\n\r\n", "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"])
    func http1WithoutHost(_ request: String) async throws {
        let gateway = try await TestGateway.start(routes: Self.routes)
        defer { Task { await gateway.stop() } }
        let (head, reached) = try await Self.ask(gateway, request)
        #expect(head.hasPrefix("HTTP/1.1 400 "), "\(head)")
        #expect(head.lowercased().contains("x-portcullis-reason: missing_host"), "\(head)")
        #expect(!reached, "the upstream received a request without a host")
        // With a Host, the same request goes through.
        let (allowed, _) = try await Self.ask(gateway, request.replacingOccurrences(of: "\r\n\r\n", with: "\r\nHost: localhost\r\n\r\n"))
        #expect(allowed.hasPrefix("HTTP/1.1 200 "), "\(allowed)")
    }

    @Test("HTTP/2 without :authority and without host is refused 400 missing_host; host alone is enough")
    func http2WithoutAuthority() async throws {
        let gateway = try await TestGateway.start(routes: Self.routes)
        defer { Task { await gateway.stop() } }
        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let refused = try await client.send([.headers([(":method", "GET"), (":path", "/echo"), (":scheme", "https")], endStream: true)])
        await refused.waitForEnd()
        #expect(refused.status == "400", "\(refused.frames.withLock { $0 })")
        #expect(refused.headers.withLock { $0 }.contains { $0.0 == "x-portcullis-reason" && $0.1 == "missing_host" })
        #expect(gateway.upstream.received.withLock { $0 }.isEmpty, "the upstream received a request without a host")

        let withHost = try await client.send([
            .headers([(":method", "GET"), (":path", "/echo"), (":scheme", "https"), ("host", "APP.test")], endStream: true),
        ])
        await withHost.waitForEnd()
        #expect(withHost.status == "200", "\(withHost.frames.withLock { $0 })")
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(withHost.body.withLock { $0 }.utf8))
        #expect(echo.values("x-forwarded-host") == ["app.test"])
    }

    @Test("X-Forwarded-Host is the host the route matched, never the client's X-Forwarded-Host (HTTP/1.1)", arguments: [
        // (Host sent, X-Forwarded-Host the upstream must receive)
        ("app.test", "app.test"), ("APP.Test.", "app.test"), ("app.test:8443", "app.test:8443"), ("App.TEST.:8443", "app.test:8443"),
        ("localhost", "localhost"), ("LocalHost.", "localhost"), ("127.0.0.1:8443", "127.0.0.1:8443"), ("[::1]:8443", "[::1]:8443"),
    ])
    func forwardedHost(_ host: String, _ expected: String) async throws {
        let gateway = try await TestGateway.start(routes: Self.routes)
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send(
            "GET /echo HTTP/1.1\r\nHost: \(host)\r\nX-Forwarded-Host: evil.example\r\nX_Forwarded_Host: evil.example\r\n"
                + "x-forwarded-host: evil.example\r\nX-Forwarded-Server: evil.example\r\nX-Original-Host: evil.example\r\nConnection: close\r\n\r\n"
        )
        _ = await client.waitForClose(timeout: .seconds(5))
        await client.close()
        #expect(client.text.hasPrefix("HTTP/1.1 200 "), "\(client.text.prefix(300))")
        let echo = try Self.echo(of: client.text)
        #expect(echo.values("x-forwarded-host") == [expected])
        #expect(!echo.headers.contains { $0[1].contains("evil") }, "\(echo.headers)")
        let route = gateway.logs.entries(message: "request").last?.metadata["route"]
        #expect(route == (expected.hasPrefix("app.test") ? "app-host" : "app"))
    }

    @Test("X-Forwarded-Host over HTTP/2 is the host :authority matched")
    func forwardedHostHTTP2() async throws {
        let gateway = try await TestGateway.start(routes: Self.routes)
        defer { Task { await gateway.stop() } }
        let client = try await RawHTTP2Client.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let stream = try await client.send([
            .headers([(":method", "GET"), (":path", "/echo"), (":scheme", "https"), (":authority", "App.Test.:8443"),
                      ("x-forwarded-host", "evil.example"), ("x_forwarded_host", "evil.example")], endStream: true),
        ])
        await stream.waitForEnd()
        #expect(stream.status == "200", "\(stream.frames.withLock { $0 })")
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(stream.body.withLock { $0 }.utf8))
        #expect(echo.values("x-forwarded-host") == ["app.test:8443"])
        #expect(!echo.headers.contains { $0[1].contains("evil") }, "\(echo.headers)")
    }
}
}
