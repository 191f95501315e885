import NIOCore

/// What a client sends through a WebSocket tunnel, checked frame by frame as it passes: every
/// frame a client sends is masked (RFC 6455 §5.1: a server must close a connection on an
/// unmasked one) and has a defined opcode. An upstream that answered a handshake without being
/// a WebSocket server (an endpoint that echoes a status and headers the caller chose, which
/// computes the accept value from its own key) still reads HTTP on that connection; an HTTP
/// request's bytes (`GET /admin …`) are no masked frame, so the tunnel ends at its first byte
/// pair. A pure state machine over the byte stream: frame headers are read across buffer
/// boundaries and payloads skipped by length.
struct WebSocketClientFrames {
    enum Verdict: Equatable {
        case valid
        case invalid(String)
    }

    /// Header bytes of the frame being read (2 to 14).
    private var header: [UInt8] = []
    /// Payload bytes still to pass before the next header.
    private var payloadLeft: UInt64 = 0
    private(set) var failed = false

    /// Feeds the next bytes the client sent; `.invalid` once anything is not a masked frame
    /// (and from then on).
    mutating func consume(_ bytes: ByteBufferView) -> Verdict {
        guard !failed else { return .invalid("the tunnel already failed") }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if payloadLeft > 0 {
                let available = UInt64(bytes.distance(from: index, to: bytes.endIndex))
                let skipped = min(available, payloadLeft)
                payloadLeft -= skipped
                index = bytes.index(index, offsetBy: Int(skipped))
                continue
            }
            header.append(bytes[index])
            index = bytes.index(after: index)
            if header.count == 2 {
                let opcode = header[0] & 0x0F
                guard [0x0, 0x1, 0x2, 0x8, 0x9, 0xA].contains(opcode) else {
                    return fail("opcode \(opcode) is not a WebSocket frame's")
                }
                guard header[1] & 0x80 != 0 else { return fail("a client frame is not masked") }
            }
            guard header.count >= 2, header.count == Self.headerLength(header) else { continue }
            switch header[1] & 0x7F {
            case 126: payloadLeft = UInt64(header[2]) << 8 | UInt64(header[3])
            case 127: payloadLeft = header[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
            case let length: payloadLeft = UInt64(length)
            }
            header.removeAll(keepingCapacity: true)
        }
        return .valid
    }

    /// The whole header's length once its first two bytes are known: 2, plus 2 or 8 for an
    /// extended length, plus 4 for the mask.
    private static func headerLength(_ header: [UInt8]) -> Int {
        let extended = switch header[1] & 0x7F {
        case 126: 2
        case 127: 8
        default: 0
        }
        return 2 + extended + 4
    }

    private mutating func fail(_ reason: String) -> Verdict {
        failed = true
        return .invalid(reason)
    }
}

/// Passes what the client sends into a WebSocket tunnel on to the glue while it is masked
/// WebSocket frames (``WebSocketClientFrames``); closes the connection at the first byte that
/// is not, so nothing else reaches the upstream.
final class WebSocketFrameGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var frames = WebSocketClientFrames()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !frames.failed else { return }
        let buffer = unwrapInboundIn(data)
        switch frames.consume(buffer.readableBytesView) {
        case .valid:
            context.fireChannelRead(data)
        case .invalid:
            context.close(promise: nil)
        }
    }
}
