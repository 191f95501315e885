import NIOCore
import PortcullisCore

/// Reads a PROXY protocol v2 header (from a trusted load balancer) at the start of a
/// connection and records the client's source address, then removes itself. Anything else
/// at the start closes the connection: a trusted proxy configured for PROXY always sends it.
final class ProxyProtocolV2Decoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// Largest header accepted (addresses plus TLVs).
    static let maximumLength = 512

    struct ProtocolError: Error, CustomStringConvertible {
        let reason: String
        var description: String { "PROXY protocol v2: \(reason)" }
    }

    private let connection: ClientConnectionInfo
    private var done = false

    init(connection: ClientConnectionInfo) {
        self.connection = connection
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if done {
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()))
            return .needMoreData
        }
        guard buffer.readableBytes >= 16 else { return .needMoreData }
        let start = buffer.readerIndex
        guard let signature = buffer.getBytes(at: start, length: 12), signature == Self.signature else {
            throw ProtocolError(reason: "missing signature")
        }
        guard let versionCommand = buffer.getInteger(at: start + 12, as: UInt8.self),
              let family = buffer.getInteger(at: start + 13, as: UInt8.self),
              let length = buffer.getInteger(at: start + 14, as: UInt16.self)
        else { return .needMoreData }
        guard versionCommand >> 4 == 2 else { throw ProtocolError(reason: "unsupported version") }
        guard Int(length) <= Self.maximumLength else { throw ProtocolError(reason: "header too long") }
        guard buffer.readableBytes >= 16 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 16)
        guard var body = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        let command = versionCommand & 0x0F
        if command == 0x1 {
            // PROXY: take the source address. LOCAL (0x0) keeps the TCP peer.
            switch family >> 4 {
            case 0x1:
                guard let bytes = body.readBytes(length: 4) else { throw ProtocolError(reason: "short IPv4 block") }
                connection.peer = IPAddress(bytes: bytes) ?? connection.peer
            case 0x2:
                guard let bytes = body.readBytes(length: 16) else { throw ProtocolError(reason: "short IPv6 block") }
                connection.peer = IPAddress(bytes: bytes) ?? connection.peer
            default:
                break
            }
        } else if command != 0x0 {
            throw ProtocolError(reason: "unknown command")
        }
        done = true
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if done, buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()))
        }
        return .needMoreData
    }
}
