import NIOCore
import NIOHTTP1

/// Joins two channels byte for byte, with backpressure: a side whose partner cannot take more
/// stops reading (after the `GlueHandler` of swift-nio-examples' connect-proxy). Both channels
/// must share an event loop.
final class GlueHandler: RemovableChannelHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    private init() {}

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerCloseFull() {
        context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerCloseFull()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

/// Turns an upgraded HTTP/1.1 exchange into a byte tunnel between client and upstream.
enum WebSocketTunnel {
    /// Removes the HTTP handlers from both channels and glues them together. Must run on the
    /// (shared) event loop, after the 101 response was written to the client.
    static func splice(client: any Channel, upstream: any Channel) throws {
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()

        // Upstream first: its decoder may hold the first frame the upstream sent after the 101,
        // and forwards it to the glue when removed.
        let upstreamPipeline = upstream.pipeline.syncOperations
        upstreamPipeline.removeHandler(context: try upstreamPipeline.context(handlerType: UpstreamConnectionHandler.self), promise: nil)
        upstreamPipeline.removeHandler(context: try upstreamPipeline.context(handlerType: HTTPRequestEncoder.self), promise: nil)
        try upstreamPipeline.addHandler(upstreamGlue)

        let clientPipeline = client.pipeline.syncOperations
        clientPipeline.removeHandler(context: try clientPipeline.context(handlerType: ProxyHandler.self), promise: nil)
        if let observer = try? clientPipeline.context(handlerType: InboundByteObserver.self) {
            clientPipeline.removeHandler(context: observer, promise: nil)
        }
        clientPipeline.removeHandler(context: try clientPipeline.context(handlerType: HTTPResponseEncoder.self), promise: nil)
        // Only masked WebSocket frames from the client reach the glue: an upstream that only
        // echoed a handshake still reads HTTP, and gets none.
        try clientPipeline.addHandler(WebSocketFrameGuard())
        try clientPipeline.addHandler(clientGlue)
        clientPipeline.removeHandler(context: try clientPipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)

        upstreamPipeline.removeHandler(context: try upstreamPipeline.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
        client.read()
        upstream.read()
    }
}
