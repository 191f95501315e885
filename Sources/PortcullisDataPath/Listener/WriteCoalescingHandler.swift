import NIOCore

/// Joins the small writes made before one flush into a single buffer, so that a small
/// response (head and body) becomes one TLS record and one `SSL_write` instead of several.
/// Large writes pass through untouched.
final class WriteCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Above this total, pending writes are passed on as they are.
    static let limit = 16_384

    private var pending: [ByteBuffer] = []
    private var promises: [EventLoopPromise<Void>] = []
    private var pendingBytes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        if pendingBytes + buffer.readableBytes > Self.limit {
            passPending(context: context)
            context.write(data, promise: promise)
            return
        }
        pending.append(buffer)
        pendingBytes += buffer.readableBytes
        if let promise { promises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {
        switch pending.count {
        case 0:
            break
        case 1:
            passPending(context: context)
        default:
            var joined = context.channel.allocator.buffer(capacity: pendingBytes)
            for var buffer in pending { joined.writeBuffer(&buffer) }
            let promise = combinedPromise(context: context)
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
            context.write(wrapOutboundOut(joined), promise: promise)
        }
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        passPending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        passPending(context: context)
    }

    private func passPending(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        let promise = combinedPromise(context: context)
        let buffers = pending
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
        for (index, buffer) in buffers.enumerated() {
            context.write(wrapOutboundOut(buffer), promise: index == buffers.count - 1 ? promise : nil)
        }
    }

    private func combinedPromise(context: ChannelHandlerContext) -> EventLoopPromise<Void>? {
        guard !promises.isEmpty else { return nil }
        let all = promises
        promises.removeAll(keepingCapacity: true)
        if all.count == 1 { return all[0] }
        let combined = context.eventLoop.makePromise(of: Void.self)
        combined.futureResult.assumeIsolated().whenComplete { result in
            for promise in all { promise.completeWith(result) }
        }
        return combined
    }
}
