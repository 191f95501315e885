import NIOCore
import Testing

@testable import PortcullisDataPath

/// Review round 10: what a client sends through a tunnel must be masked WebSocket frames.
@Suite("WebSocket client frames in a tunnel")
struct WebSocketClientFramesTests {
    /// A masked client frame: FIN + opcode, mask bit + length (7-bit, 16-bit or 64-bit), mask, payload.
    static func frame(opcode: UInt8 = 0x1, payload: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        switch payload {
        case ..<126: bytes.append(0x80 | UInt8(payload))
        case ..<65_536: bytes += [0x80 | 126, UInt8(payload >> 8), UInt8(payload & 0xFF)]
        default: bytes += [0x80 | 127] + (0..<8).reversed().map { UInt8((payload >> ($0 * 8)) & 0xFF) }
        }
        return bytes + [1, 2, 3, 4] + [UInt8](repeating: 0x41, count: payload)
    }

    func verdict(_ chunks: [[UInt8]]) -> WebSocketClientFrames.Verdict {
        var frames = WebSocketClientFrames()
        var last = WebSocketClientFrames.Verdict.valid
        for chunk in chunks {
            last = frames.consume(ByteBuffer(bytes: chunk).readableBytesView)
            if last != .valid { return last }
        }
        return last
    }

    @Test("masked frames of every length pass, however the bytes are split")
    func maskedFramesPass() {
        let stream = Self.frame(payload: 5) + Self.frame(opcode: 0x2, payload: 300) + Self.frame(opcode: 0x9, payload: 0)
            + Self.frame(payload: 70_000) + Self.frame(opcode: 0x8, payload: 2)
        #expect(verdict([stream]) == .valid)
        #expect(verdict(stream.map { [$0] }) == .valid)
        #expect(verdict(stride(from: 0, to: stream.count, by: 7).map { Array(stream[$0..<min($0 + 7, stream.count)]) }) == .valid)
    }

    @Test("an HTTP request, an unmasked frame or an unknown opcode ends the tunnel", arguments: [
        Array("GET /admin/secrets HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),
        [0x81, 0x05] + Array("hello".utf8),
        [0x83, 0x80, 1, 2, 3, 4],
        frame(payload: 3) + Array("POST /admin HTTP/1.1\r\n".utf8),
    ])
    func othersRefused(_ bytes: [UInt8]) {
        if case .valid = verdict([bytes]) { Issue.record("passed: \(bytes.prefix(16))") }
    }
}
