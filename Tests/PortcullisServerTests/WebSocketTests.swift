import Foundation
import NIOCore
import NIOPosix
import Testing

extension ServerTests {
@Suite("WebSocket through the proxy")
struct WebSocketTests {
    @Test("an upgrade passes through and frames echo both ways")
    func echo() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await client.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let handshake = await client.wait { $0.contains("\r\n\r\n") }
        #expect(handshake.hasPrefix("HTTP/1.1 101"))
        #expect(handshake.lowercased().contains("upgrade: websocket"))
        #expect(handshake.lowercased().contains("sec-websocket-accept:"))

        // A masked text frame "hello portcullis".
        let payload = Array("hello portcullis".utf8)
        let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        var frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)] + mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        let before = client.bytes.count
        try await client.channel.writeAndFlush(ByteBuffer(bytes: frame))
        let reply = await client.waitForBytes(before + 2 + payload.count)
        let bytes = Array(reply.dropFirst(before))
        #expect(bytes.first == 0x81)
        #expect(Array(bytes.dropFirst(2).prefix(payload.count)) == payload)
        await client.close()
    }

    @Test("an upgrade after an ordinary request on the same client connection still upgrades: it takes a new upstream connection")
    func upgradeAfterKeptRequest() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        // The first request leaves a kept upstream connection; the test upstream (SwiftNIO's
        // upgrader, as Vapor and Hummingbird use) upgrades only a connection's first request.
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let first = await client.wait { $0.contains("\r\n\r\n") && $0.contains("bodySHA256") }
        #expect(first.hasPrefix("HTTP/1.1 200"))
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let before = client.text.count
        try await client.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let handshake = String(await client.wait { $0.count > before && $0.dropFirst(before).contains("\r\n\r\n") }.dropFirst(before))
        #expect(handshake.hasPrefix("HTTP/1.1 101"), "\(handshake)")
        await client.close()
    }
}
}
