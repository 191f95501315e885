import AsyncHTTPClient
import Foundation
import MetricsTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisTestSupport
import Synchronization
import Testing

extension ServerTests {
@Suite("Timeouts and upstream failures")
struct TimeoutAndFailureTests {
    @Test("a slow client is cut off by the header timeout")
    func slowloris() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { header_timeout: 1s, idle_timeout: 30s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let start = ContinuousClock.now
        // Trickle a header, never finishing it.
        try await client.send("GET /echo HTTP/1.1\r\n")
        // Trickling would go on for 20 s; the 1 s header timeout must end it long before.
        for _ in 0..<100 where !client.isClosed {
            try? await client.send("X-Slow: a\r\n")
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(client.isClosed)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(!client.text.contains("bodySHA256"))
    }

    @Test("a stalled body on a route that refuses the request: the refusal is sent and the connection closes soon after")
    func stalledBodyRefused() async throws {
        let gateway = try await TestGateway.start(routes: """
              - { name: app, path: /, upstream: "{UPSTREAM}", require: public, greenlist: office }
            """, extra: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let start = ContinuousClock.now
        try await client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n0123456789")
        let answer = await client.wait { $0.contains("\r\n\r\n") }
        #expect(answer.hasPrefix("HTTP/1.1 403"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
        // nginx keeps such a connection for client_body_timeout (60 s); a refusal only lingers briefly.
        #expect(await client.waitForClose(timeout: .seconds(10)))
        #expect(ContinuousClock.now - start < .seconds(7))
        #expect(gateway.upstream.received.withLock { $0 }.isEmpty)
    }

    @Test("a stalled body on a public route: 408 after body_timeout, and the connection closes")
    func stalledBodyForwarded() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { body_timeout: 1s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let start = ContinuousClock.now
        try await client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n0123456789")
        let answer = await client.wait { $0.contains("\r\n\r\n") }
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(answer.contains("body_timeout"))
        #expect(await client.waitForClose(timeout: .seconds(5)))
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("a body that keeps trickling is not cut off: body_timeout is the gap between reads")
    func tricklingBody() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { body_timeout: 1s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\n\r\n")
        for byte in "abcdef" {
            try await Task.sleep(for: .milliseconds(400))
            try await client.send(String(byte))
        }
        let answer = await client.wait { $0.contains("bodySHA256") }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
    }

    @Test("a client that leaves its response unread is closed after send_timeout")
    func sendTimeout() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { send_timeout: 1s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.stopReading()
        try await client.send("GET /download?bytes=200000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let deadline = ContinuousClock.now + .seconds(10)
        var aborted = false
        while ContinuousClock.now < deadline, !aborted {
            try await Task.sleep(for: .milliseconds(100))
            aborted = gateway.logs.all.contains { $0.metadata["reason"] == "send_timeout" }
        }
        #expect(aborted, "the access log shows the exchange aborted by send_timeout")
        await client.close()
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleTimeout() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { header_timeout: 1s, idle_timeout: 2s }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _ = await client.wait { $0.contains("bodySHA256") }
        // Still open within the idle timeout, even past the header timeout.
        try await Task.sleep(for: .milliseconds(1_300))
        #expect(!client.isClosed)
        #expect(await client.waitForClose(timeout: .seconds(3)))
    }

    @Test("a TLS handshake that never finishes is cut off")
    func stalledHandshake() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { header_timeout: 1s }")
        defer { Task { await gateway.stop() } }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: gateway.port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: [0x16, 0x03, 0x01]))
        let start = ContinuousClock.now
        try await channel.closeFuture.get()
        #expect(ContinuousClock.now - start < .seconds(8))
    }

    @Test("a dead upstream gives 502 upstream_unavailable")
    func deadUpstream() async throws {
        let port = try await TestUpstream.deadPort()
        let gateway = try await TestGateway.start(routes: """
              - { name: dead, path: /, upstream: "http://127.0.0.1:\(port)", require: public }
            """)
        defer { Task { await gateway.stop() } }
        let (response, body) = try await gateway.fetch("/anything")
        #expect(response.status == .badGateway)
        #expect(String(buffer: body).contains("upstream_unavailable"))
        let counter = try gateway.metrics.expectCounter("portcullis_upstream_errors_total", [("route", "dead"), ("kind", "unavailable")])
        #expect(counter.totalValue == 1)
    }

    @Test("a slow upstream gives 504 upstream_timeout")
    func slowUpstream() async throws {
        let gateway = try await TestGateway.start(routes: """
              - { name: slow, path: /, upstream: "{UPSTREAM}", require: public, response_timeout: 500ms }
            """)
        defer { Task { await gateway.stop() } }
        let start = ContinuousClock.now
        let (response, body) = try await gateway.fetch("/hang")
        #expect(response.status == .gatewayTimeout)
        #expect(String(buffer: body).contains("upstream_timeout"))
        #expect(ContinuousClock.now - start < .seconds(8))
        // Fast answers on the same route are unaffected.
        let (fast, _) = try await gateway.fetch("/slow?ms=50")
        #expect(fast.status == .ok)
    }

    @Test("an upstream that closes without answering gives 502")
    func upstreamCloses() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let (response, body) = try await gateway.fetch("/close")
        #expect(response.status == .badGateway)
        #expect(String(buffer: body).contains("upstream_unavailable"))
    }

    @Test("too many connections: the extra ones are closed at once")
    func connectionLimit() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { max_connections: 2 }")
        defer { Task { await gateway.stop() } }
        let roots = try gateway.certificates.trustRoots()
        let one = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        let two = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        await #expect(throws: (any Error).self) {
            _ = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        }
        await one.close()
        await two.close()
    }
}
}
