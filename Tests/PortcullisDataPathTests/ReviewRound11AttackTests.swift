import NIOCore
import Testing

@testable import PortcullisDataPath

/// Adversarial review of issue 21, round 11 (16b8f14): the round-10 tunnel frame check.
@Suite("Review round 11: the tunnel's client frame check")
struct ReviewRound11DataPathAttackTests {
    func verdict(_ chunks: [[UInt8]]) -> WebSocketClientFrames.Verdict {
        var frames = WebSocketClientFrames()
        var last = WebSocketClientFrames.Verdict.valid
        for chunk in chunks {
            last = frames.consume(ByteBuffer(bytes: chunk).readableBytesView)
            if last != .valid { return last }
        }
        return last
    }

    /// HELD: an HTTP request is refused wherever the frame boundary falls: after a frame whose
    /// 16-bit or 64-bit length is exactly what was sent, with its header split at every byte,
    /// and after a zero-length frame.
    @Test("held: a request line after a frame of exactly its length is refused, however split")
    func requestAfterExactFrame() {
        let request = Array("GET /admin HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let frames: [[UInt8]] = [
            [0x82, 0x80 | 126, 0x00, 0x03, 1, 2, 3, 4, 9, 9, 9],
            [0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 9, 9, 9],
            [0x89, 0x80, 1, 2, 3, 4],
        ]
        for frame in frames {
            let stream = frame + request
            for split in 1..<stream.count {
                let chunks = [Array(stream[..<split]), Array(stream[split...])]
                if case .valid = verdict(chunks) { Issue.record("passed, split at \(split): \(frame)") }
            }
        }
    }

    /// HELD (bound, by design): a frame's payload is skipped by its length, up to 2^64 - 1, so
    /// anything may follow a frame header that announces a huge payload. What reaches the
    /// upstream still starts with the frame header: its second byte has the mask bit (≥ 0x80),
    /// which no HTTP method holds, whatever the RSV bits make of the first (`0x50` is `P`), so
    /// an HTTP parser refuses the connection before it reads the payload. (An upstream that
    /// skipped a malformed request line and went on reading, as the round-10 test's loose echo
    /// does, would read the payload's requests: none of Node's llhttp, Go's net/http, nginx,
    /// Python's http.server, gunicorn, h11 or Tomcat does.)
    @Test("held: a huge payload passes, but every frame header's second byte is no token byte")
    func hugePayloadBound() {
        let header: [UInt8] = [0x50, 0x80 | 127] + [UInt8](repeating: 0xFF, count: 8) + [1, 2, 3, 4]
        #expect(verdict([header + Array("GET /admin HTTP/1.1\r\n\r\n".utf8)]) == .valid)
        for second: UInt8 in 0...0x7F {
            if case .valid = verdict([[0x50, second]]) { Issue.record("an unmasked second byte \(second) passed") }
        }
    }
}
