import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the request currently using it. Called on the
/// connection's event loop, which is also the client's.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamDidReceive(_ part: HTTPClientResponsePart)
    func upstreamDidReadComplete()
    func upstreamWritabilityDidChange(isWritable: Bool)
    func upstreamDidClose(error: (any Error)?)
}

/// The handler at the end of an upstream channel's pipeline: passes response parts to the
/// current receiver and holds reads while the receiver's client cannot take more (backpressure,
/// like the `GlueHandler` of swift-nio-examples).
package final class UpstreamConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPClientResponsePart
    package typealias OutboundIn = HTTPClientRequestPart
    package typealias OutboundOut = HTTPClientRequestPart

    weak var receiver: (any UpstreamResponseReceiver)?
    private var context: ChannelHandlerContext?
    private var readsAllowed = true
    private var readPending = false
    /// Set while the connection sits idle in a pool, so that a close removes it.
    weak var idlePool: UpstreamPool?

    package init() {}

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receiver?.upstreamDidReceive(unwrapInboundIn(data))
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.upstreamDidReadComplete()
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritabilityDidChange(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if let receiver {
            self.receiver = nil
            receiver.upstreamDidClose(error: nil)
        } else if let idlePool {
            self.idlePool = nil
            idlePool.idleConnectionClosed(self)
        }
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let receiver {
            self.receiver = nil
            receiver.upstreamDidClose(error: error)
        }
        context.close(promise: nil)
    }

    package func read(context: ChannelHandlerContext) {
        if readsAllowed {
            context.read()
        } else {
            readPending = true
        }
    }

    /// Holds or resumes reading from the upstream.
    package func setReadsAllowed(_ allowed: Bool) {
        readsAllowed = allowed
        if allowed, readPending, let context {
            readPending = false
            context.read()
        }
    }

    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }

    func flush() {
        context?.flush()
    }
}

/// One keep-alive connection to an upstream, owned by one request at a time.
package final class UpstreamConnection {
    package let key: UpstreamPool.Key
    package let channel: any Channel
    package let handler: UpstreamConnectionHandler
    /// Requests served so far; a reused connection may have been closed by the upstream.
    var requestCount = 0
    var idleSince: NIODeadline = .now()

    package init(key: UpstreamPool.Key, channel: any Channel, handler: UpstreamConnectionHandler) {
        self.key = key
        self.channel = channel
        self.handler = handler
    }

    var isWritable: Bool { channel.isWritable }
    package var isActive: Bool { channel.isActive }
}
