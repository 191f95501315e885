import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

extension ServerTests {
/// Adversarial review of issue 21, round 10 (76daaf5): the round-9 WebSocket handshake check,
/// against an app that lets the caller choose a response's status and headers.
@Suite("Review round 10: a protected path reached through the gateway")
struct ReviewRound10AttackServerTests {
    /// As `ealen/echo-server` answers: the status in `X-Echo-Code` and the `name:value` pairs
    /// (comma-separated) of `X-Echo-Header`.
    @Sendable static func echo(_ head: String) -> String {
        var code = "200"
        var extra = ""
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "x-echo-code": code = parts[1]
            case "x-echo-header":
                for pair in parts[1].split(separator: ",") {
                    let nameValue = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    if nameValue.count == 2 { extra += "\(nameValue[0]): \(nameValue[1])\r\n" }
                }
            default: continue
            }
        }
        return code == "101"
            ? "HTTP/1.1 101 Switching Protocols\r\n\(extra)\r\n"
            : "HTTP/1.1 \(code) OK\r\n\(extra)Content-Length: 6\r\n\r\nsecret"
    }

    /// FINDING (MEDIUM, needs an app endpoint that answers with a status and headers the caller
    /// chooses): WebSocket smuggling past the round-9 handshake check.
    ///
    /// Round 9 opens the tunnel only on a 101 whose `Upgrade: websocket` and
    /// `Sec-WebSocket-Accept` answer the client's `Sec-WebSocket-Key`. But the key is the
    /// client's own: the accept value is `base64(SHA-1(key + GUID))`, which the client computes
    /// as easily as the gateway. An endpoint that echoes a caller-chosen status *and* headers
    /// (the widely deployed `ealen/echo-server` and its `x-echo-code` / `x-echo-header`
    /// request headers or `echo_code` / `echo_header` query, mock servers such as WireMock or
    /// mockbin, a "response builder" debug page) answers exactly the 101 the gateway checks
    /// for, while its HTTP server goes on reading HTTP on that connection. The gateway then
    /// tunnels raw bytes: the client writes `GET /admin/secrets` with a forged
    /// `X-Portcullis-User`, straight to the app, on a connection decided once, anonymously,
    /// under the public route. The round-9 check binds the 101 to the request but cannot tell
    /// a real WebSocket server from an echo; what can is the tunnel's first client bytes: an
    /// RFC 6455 client frame is masked (second byte ≥ 0x80), while any HTTP request line is
    /// ASCII text (`GET /…`: `0x47 0x45`, an unmasked frame with a reserved opcode), so a
    /// gateway that checks the first frame header (or parses frames) refuses the smuggle.
    ///
    /// Safe behaviour asserted: the app never receives the smuggled request.
    @Test("an echoed 101 with the accept the client computed does not open a tunnel to the app", .timeLimit(.minutes(1)))
    func echoedHandshakeSmugglesRequests() async throws {
        let app = try await HTTPOnlyUpstream.start(answer: Self.echo)
        defer { Task { await app.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: admin, path: /admin, upstream: "http://127.0.0.1:\(app.port)", require: public, greenlist: office }
              - { name: app, path: /, upstream: "http://127.0.0.1:\(app.port)", require: public }
            """, extra: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]")
        defer { Task { await gateway.stop() } }

        let (direct, _) = try await gateway.fetch("/admin/secrets", headers: [("Accept", "application/json")], http1: true)
        #expect(direct.status == .forbidden)

        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
        try await client.send(
            "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
                + "X-Echo-Code: 101\r\nX-Echo-Header: Upgrade:websocket, Connection:Upgrade, Sec-WebSocket-Accept:\(accept)\r\n\r\n"
        )
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        let before = client.text.count
        if handshake.hasPrefix("HTTP/1.1 101") {
            try await client.send(
                "GET /admin/secrets HTTP/1.1\r\nHost: localhost\r\nX-Portcullis-User: u-admin\r\nX-Portcullis-Role: super_admin\r\n\r\n"
            )
            _ = await client.wait(timeout: .seconds(3)) { $0.count > before && $0.dropFirst(before).contains("\r\n\r\n") }
        }
        let smuggled = app.requestLines.filter { $0.contains("/admin/secrets") }
        #expect(smuggled.isEmpty, "the app received \(smuggled) on a connection decided as the public GET /echo (client saw: \(client.text.prefix(400)))")
        #expect(!app.forgedIdentitySeen, "the app received a client's own X-Portcullis-User")
    }

    /// HELD (control): the same echo without the right accept value (the round-9 case) is a 502.
    @Test("held: an echoed 101 with a wrong accept is a 502", .timeLimit(.minutes(1)))
    func echoedWrongAcceptHeld() async throws {
        let app = try await HTTPOnlyUpstream.start(answer: Self.echo)
        defer { Task { await app.close() } }
        let gateway = try await TestGateway.start(routes: """
              - { name: app, path: /, upstream: "http://127.0.0.1:\(app.port)", require: public }
            """)
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        defer { Task { await client.close() } }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await client.send(
            "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
                + "X-Echo-Code: 101\r\nX-Echo-Header: Upgrade:websocket, Sec-WebSocket-Accept:AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
        )
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        #expect(handshake.hasPrefix("HTTP/1.1 502"), "\(handshake.prefix(200))")
    }
}
}
