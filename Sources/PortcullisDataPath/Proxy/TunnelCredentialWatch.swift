import NIOCore

/// Watches a WebSocket tunnel's credential: every `interval` it asks whether the credential
/// that opened the tunnel is still valid, and closes the tunnel when it is not (a sign-out,
/// an expiry, a deactivated user). Sits in the client channel's pipeline beside the tunnel.
final class TunnelCredentialWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let interval: TimeAmount
    private let check: @Sendable (any EventLoop) -> EventLoopFuture<Bool>
    private var timer: Scheduled<Void>?

    init(interval: TimeAmount, check: @escaping @Sendable (any EventLoop) -> EventLoopFuture<Bool>) {
        self.interval = interval
        self.check = check
    }

    func handlerAdded(context: ChannelHandlerContext) {
        schedule(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func schedule(context: ChannelHandlerContext) {
        let channel = context.channel
        let loop = context.eventLoop
        timer = loop.assumeIsolated().scheduleTask(in: interval) { [weak self] in
            guard let self, channel.isActive else { return }
            self.check(loop).assumeIsolated().whenComplete { [weak self] result in
                guard channel.isActive else { return }
                if (try? result.get()) == true {
                    self?.schedule(context: context)
                } else {
                    channel.close(promise: nil)
                }
            }
        }
    }
}
