import NIOCore
import NIOHTTP1

extension ProxyStateMachine {
    /// One request and its response, from the request head to the end of the response. A class,
    /// so that the state machine changes it in place on every event (no copy written back) and
    /// the access log reads it once it is finished.
    final class Exchange {
        let id: ExchangeID
        let head: HTTPRequestHead
        let framing: RequestFraming
        let started: NIODeadline
        var phase = Phase.deciding
        var log: ExchangeLog
        var plan: ForwardPlan?
        var requestComplete: Bool
        /// Body parts that arrived before the upstream was attached.
        var held = CircularBuffer<ByteBuffer>()
        var heldBytes = 0
        var bytesIn = 0
        var bytesOut = 0
        var status: UInt = 0
        var responseStarted = false
        /// The upstream connection came from a pool or from this client's last exchange.
        var upstreamReused = false
        var retried = false
        /// The upstream's response can be followed by another on the same connection.
        var upstreamReusable = false
        /// Last read of the request body (or when reading it resumed).
        var bodyProgress: NIODeadline
        var responseDeadline: NIODeadline?
        var revalidateAt: NIODeadline?
        var revalidating = false

        init(
            id: ExchangeID, head: HTTPRequestHead, framing: RequestFraming, started: NIODeadline, log: ExchangeLog,
            requestComplete: Bool, bodyProgress: NIODeadline
        ) {
            self.id = id
            self.head = head
            self.framing = framing
            self.started = started
            self.log = log
            self.requestComplete = requestComplete
            self.bodyProgress = bodyProgress
        }

        /// Bytes the client may still send. An HTTP/1.1 request framed without a body has none,
        /// even before the decoder's end-of-message marker arrives (it comes with the head). An
        /// HTTP/2 stream is not done until END_STREAM, whatever its `content-length` said.
        func bodyOutstanding(isHTTP1: Bool) -> Bool {
            !requestComplete && (framing != .none || !isHTTP1)
        }
    }
}
