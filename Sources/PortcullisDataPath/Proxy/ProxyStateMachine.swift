import NIOCore
import NIOHTTP1
import PortcullisCore

/// The life of the requests on one HTTP/1.1 connection or one HTTP/2 stream, as a pure state
/// machine: events go in (a request part, a decision, an upstream part, a timer, a close), the
/// actions its handler must perform come out. No channel, no clock: every event carries `now`.
/// Every piece of request state lives here; ``ProxyHandler`` only performs the actions.
///
/// An exchange goes `deciding` (the caller is resolved and the policy evaluated) →
/// `connecting` (an upstream connection is found) → `forwarding` (the request streams up, the
/// response streams down), or from `deciding` straight to a refusal. Between exchanges an
/// HTTP/1.1 connection is `idle`; a refusal sent before the request body was read in full
/// leaves it `lingering`: a little more of the body is read and dropped, then it closes.
///
/// Deadlines, each checked on ``timerFired(now:into:)`` (``nextDeadline`` says when):
/// - idle (HTTP/1.1 keep-alive; HTTP/2: a stream with no bytes either way);
/// - head: once the first byte of a head arrives it must be complete in time (slowloris);
/// - body: the longest gap between two reads of a request body;
/// - response: from the end of the request to the upstream's response head;
/// - send: how long the client may leave a response unread;
/// - linger: how long a refused request's connection waits for the rest of its body;
/// - revalidation: a long response that carries an identity checks its credential again.
struct ProxyStateMachine {
    struct Configuration {
        var isHTTP1: Bool
        /// HTTP/1.1: between requests. HTTP/2: a stream with no bytes either way.
        var idleTimeout: TimeAmount
        /// HTTP/1.1: from the first byte of a head to its end.
        var headerTimeout: TimeAmount
        var bodyTimeout: TimeAmount
        var sendTimeout: TimeAmount
        /// How often a long response or tunnel checks that its credential is still valid.
        var revalidationInterval: TimeAmount
        /// `Strict-Transport-Security` for the gateway's own responses.
        var hsts: String?
        /// Bytes of a refused request's body read and dropped before the connection closes.
        var discardLimit = 65_536
        var lingerTimeout: TimeAmount = .seconds(5)
        /// Parts of pipelined HTTP/1.1 requests held while one is in flight.
        var pipelineLimit = 64
        /// Body bytes held while a request is decided and connected.
        var heldBodyLimit = 1_048_576
    }

    enum ConnectionState: Equatable {
        /// Waiting for a request head.
        case idle(deadline: NIODeadline)
        /// HTTP/1.1: part of a head arrived; the rest is due by `deadline`.
        case readingHead(deadline: NIODeadline)
        /// An exchange is in flight (``exchange``).
        case busy
        /// A refusal went out before the request body ended; a little more is read and dropped.
        case lingering(deadline: NIODeadline, discarded: Int)
        /// The upstream answered 101; the tunnel starts when its message ends.
        case upgrading
        /// A WebSocket tunnel took over; the handler is gone.
        case tunnelled
        case closed
    }

    enum Phase: Equatable {
        /// The caller is resolved and the policy evaluated (``ProxyAction/decide``).
        case deciding
        /// Waiting for an upstream connection.
        case connecting
        /// The request streams up and the response down.
        case forwarding
        /// The gateway's own response (a refusal or an error) is going out; no upstream.
        case responding
    }

    let configuration: Configuration
    private(set) var state: ConnectionState
    private(set) var exchange: Exchange?
    private var nextID: UInt64 = 0
    /// Close once the current response is done (HTTP/1.0, `Connection: close`, shutdown, a
    /// request that could not be read in full).
    private(set) var closeAfterResponse = false
    /// A read was requested while reading had to wait.
    private var readPending = false
    private var clientWritable = true
    private var upstreamWritable = true
    /// Since when the upstream has not taken the request body (the same limit as a client's
    /// body: `body_timeout`).
    private var upstreamBlockedSince: NIODeadline?
    /// Body bytes of pipelined requests held.
    private var pipelinedBytes = 0
    /// Since when the client has not taken what was written (send timeout).
    private var clientBlockedSince: NIODeadline?
    /// HTTP/2: the last bytes either way (stream idle timeout).
    private var lastActivity: NIODeadline
    /// What arrived on an HTTP/1.1 connection while a request was in flight, in order.
    private enum Pipelined {
        case part(HTTPServerRequestPart)
        /// The decoder could not parse what followed: answered 400 once the request before is.
        case unparsable(headersTooLarge: Bool)
    }

    private var pipelined = CircularBuffer<Pipelined>()
    private let client: IPAddress

    init(configuration: Configuration, client: IPAddress, now: NIODeadline) {
        self.configuration = configuration
        self.client = client
        state = .idle(deadline: now + configuration.idleTimeout)
        lastActivity = now
    }

    // MARK: deadlines

    /// When ``timerFired(now:into:)`` must next run, if anything is due.
    var nextDeadline: NIODeadline? {
        var earliest: NIODeadline?
        func consider(_ deadline: NIODeadline?) {
            guard let deadline else { return }
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        switch state {
        case .idle(let deadline), .readingHead(let deadline), .lingering(let deadline, _):
            consider(deadline)
        case .busy, .upgrading:
            if let exchange {
                if isReadingBody(exchange) { consider(exchange.bodyProgress + configuration.bodyTimeout) }
                if let blocked = upstreamBlockedSince, exchange.phase == .forwarding { consider(blocked + configuration.bodyTimeout) }
                consider(exchange.responseDeadline)
                consider(exchange.revalidateAt)
            }
            if !configuration.isHTTP1 { consider(lastActivity + configuration.idleTimeout) }
        case .tunnelled, .closed:
            break
        }
        // Also once closed: a close waits for its last write, which a client that does not
        // read never takes.
        if let blocked = clientBlockedSince, state != .tunnelled {
            consider(blocked + configuration.sendTimeout)
        }
        return earliest
    }

    /// Reading the request body is what is wanted now, so its gaps count.
    private func isReadingBody(_ exchange: Exchange) -> Bool {
        exchange.phase == .forwarding && !exchange.requestComplete && upstreamWritable
    }

    mutating func timerFired(now: NIODeadline, into actions: inout [ProxyAction]) {
        if let blocked = clientBlockedSince, now >= blocked + configuration.sendTimeout, state != .tunnelled {
            clientBlockedSince = nil
            if state == .closed {
                actions.append(.closeClient)
            } else {
                abort(reason: "send_timeout", now: now, into: &actions)
            }
            return
        }
        switch state {
        case .idle(let deadline), .readingHead(let deadline):
            if now >= deadline {
                state = .closed
                actions.append(.closeClient)
            }
        case .lingering(let deadline, _):
            if now >= deadline {
                state = .closed
                actions.append(.closeClient)
            }
        case .busy, .upgrading:
            guard let exchange else { return }
            if !configuration.isHTTP1, now >= lastActivity + configuration.idleTimeout {
                timeOut(reason: "stream_idle_timeout", status: .requestTimeout, now: now, into: &actions)
                return
            }
            if isReadingBody(exchange), now >= exchange.bodyProgress + configuration.bodyTimeout {
                timeOut(reason: "body_timeout", status: .requestTimeout, now: now, into: &actions)
                return
            }
            if let blocked = upstreamBlockedSince, exchange.phase == .forwarding, now >= blocked + configuration.bodyTimeout {
                // The upstream has not taken any of the body for body_timeout (nginx's
                // proxy_send_timeout): it will not, so give up on it.
                upstreamBlockedSince = nil
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "timeout"))
                if exchange.responseStarted {
                    abort(reason: "upstream_send_timeout", now: now, into: &actions)
                } else {
                    releaseUpstream(reusable: false, into: &actions)
                    stopReading()
                    respond(.gatewayTimeout, reason: "upstream_timeout", message: "the upstream did not take the request in time",
                            now: now, into: &actions)
                }
                return
            }
            if let due = exchange.responseDeadline, now >= due {
                exchange.responseDeadline = nil
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "timeout"))
                releaseUpstream(reusable: false, into: &actions)
                respond(.gatewayTimeout, reason: "upstream_timeout", message: "the upstream for this page did not answer in time",
                        now: now, into: &actions)
                return
            }
            if let due = exchange.revalidateAt, now >= due, !exchange.revalidating, let userID = exchange.plan?.identityUserID {
                exchange.revalidateAt = nil
                exchange.revalidating = true
                actions.append(.revalidate(exchange.id, exchange.head, userID: userID))
            }
        case .tunnelled, .closed:
            break
        }
    }

    /// A body or stream deadline passed: answer 408 if nothing was sent yet, then close.
    private mutating func timeOut(reason: String, status: HTTPResponseStatus, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard exchange != nil else { return }
        if exchange?.responseStarted == true || state == .upgrading {
            abort(reason: reason, now: now, into: &actions)
            return
        }
        releaseUpstream(reusable: false, into: &actions)
        stopReading()
        respond(status, reason: reason, message: "the request was not received in time", now: now, into: &actions)
    }

    /// Nothing more of the request will be read: the connection closes after the response.
    private mutating func stopReading() {
        closeAfterResponse = true
        exchange?.requestComplete = true
    }

    // MARK: client → gateway

    /// HTTP/1.1: bytes arrived (before the decoder); starts the head deadline.
    mutating func bytesReceived(now: NIODeadline) {
        if case .idle = state, configuration.isHTTP1 {
            state = .readingHead(deadline: now + configuration.headerTimeout)
        }
    }

    mutating func requestPartReceived(_ part: HTTPServerRequestPart, now: NIODeadline, into actions: inout [ProxyAction]) {
        lastActivity = now
        if !pipelined.isEmpty {
            queue(.part(part), now: now, into: &actions)
            return
        }
        switch part {
        case .head(let head):
            switch state {
            case .idle, .readingHead:
                guard clientWritable || !configuration.isHTTP1 else {
                    // A client that does not read its answers gets no more of its requests
                    // answered: one read can bring a megabyte of pipelined requests, and each
                    // answer would wait in memory. They wait, bounded, for the client to read.
                    state = .idle(deadline: now + configuration.idleTimeout)
                    queue(.part(part), now: now, into: &actions)
                    return
                }
                start(head, now: now, into: &actions)
            case .busy, .upgrading, .lingering:
                queue(.part(part), now: now, into: &actions)
            case .tunnelled, .closed:
                break
            }
        case .body(let buffer):
            bodyReceived(buffer, now: now, into: &actions)
        case .end:
            // Trailers are dropped: they are not filtered like headers, so they never travel on.
            endReceived(now: now, into: &actions)
        }
    }

    /// A request that arrived while another is in flight (HTTP/1.1 pipelining) waits its turn.
    private mutating func queue(_ part: Pipelined, now: NIODeadline, into actions: inout [ProxyAction]) {
        if case .part(.body(let buffer)) = part { pipelinedBytes += buffer.readableBytes }
        guard configuration.isHTTP1, pipelined.count < configuration.pipelineLimit * 4,
              pipelinedBytes <= configuration.heldBodyLimit
        else {
            closeNow(reason: "pipeline_overflow", now: now, into: &actions)
            return
        }
        pipelined.append(part)
    }

    private mutating func start(_ head: HTTPRequestHead, now: NIODeadline, into actions: inout [ProxyAction]) {
        nextID += 1
        let id = ExchangeID(value: nextID)
        if configuration.isHTTP1, !head.isKeepAlive { closeAfterResponse = true }
        let framing: RequestFraming
        switch RequestFraming.of(head) {
        case .success(let parsed):
            framing = parsed
        case .failure(let problem):
            // The body cannot be delimited: answer and close, reading nothing more.
            refuseUnframed(head, id: id, reason: problem.rawValue, message: "the request's length cannot be determined safely",
                           now: now, into: &actions)
            return
        }
        if let problem = Self.hostProblem(head) {
            refuseUnframed(head, id: id, reason: problem, message: "the request must name exactly one host", now: now, into: &actions)
            return
        }
        state = .busy
        exchange = Exchange(
            id: id, head: head, framing: framing, started: now,
            log: .undecided(head, client: client, reason: "-"),
            requestComplete: false, bodyProgress: now
        )
        actions.append(.decide(id, head, framing))
    }

    /// Exactly one `Host`, or a 400 (RFC 9112 §3.2). Routes match on the host, so HTTP/1.0,
    /// which may leave it out, must name it here too, and so must an HTTP/2 request
    /// (`:authority`, which ``HTTP2StreamCodec`` turns into `Host`, or `host`; RFC 9113 §8.3.1).
    static func hostProblem(_ head: HTTPRequestHead) -> String? {
        var count = 0
        for (name, _) in head.headers where RequestFraming.isExactly(name, "host") { count += 1 }
        if count > 1 { return "duplicate_host" }
        if count == 0 { return "missing_host" }
        return nil
    }

    private mutating func refuseUnframed(
        _ head: HTTPRequestHead, id: ExchangeID, reason: String, message: String, now: NIODeadline, into actions: inout [ProxyAction]
    ) {
        state = .busy
        closeAfterResponse = true
        exchange = Exchange(
            id: id, head: head, framing: .none, started: now,
            log: .undecided(head, client: client, reason: reason),
            requestComplete: true, bodyProgress: now
        )
        respond(.badRequest, reason: reason, message: message, now: now, into: &actions)
    }

    private mutating func bodyReceived(_ buffer: ByteBuffer, now: NIODeadline, into actions: inout [ProxyAction]) {
        switch state {
        case .busy:
            guard let exchange, !exchange.requestComplete else { return }
            guard exchange.framing != .none else {
                // The decoder framed no body; bytes that still arrive are a framing fault.
                closeNow(reason: "unframed_body", now: now, into: &actions)
                return
            }
            exchange.bytesIn += buffer.readableBytes
            switch exchange.phase {
            case .deciding, .connecting:
                exchange.heldBytes += buffer.readableBytes
                exchange.held.append(buffer)
                if exchange.heldBytes > configuration.heldBodyLimit { closeNow(reason: "body_overflow", now: now, into: &actions) }
            case .forwarding:
                exchange.bodyProgress = now
                actions.append(.writeUpstream(.body(.byteBuffer(buffer))))
            case .responding:
                break
            }
        case .lingering(let deadline, let discarded):
            let total = discarded + buffer.readableBytes
            if total > configuration.discardLimit {
                state = .closed
                actions.append(.closeClient)
            } else {
                state = .lingering(deadline: deadline, discarded: total)
            }
        case .idle, .readingHead, .upgrading, .tunnelled, .closed:
            break
        }
    }

    private mutating func endReceived(now: NIODeadline, into actions: inout [ProxyAction]) {
        switch state {
        case .busy:
            guard let exchange, !exchange.requestComplete else { return }
            exchange.requestComplete = true
            if exchange.phase == .forwarding {
                if !exchange.responseStarted, let plan = exchange.plan {
                    exchange.responseDeadline = now + plan.responseTimeout
                }
                actions.append(.writeUpstream(.end(nil)))
                actions.append(.flushUpstream)
            }
        case .lingering:
            // The refused request is read in full: nothing is left to lose by closing.
            state = .closed
            actions.append(.closeClient)
        case .idle, .readingHead, .upgrading, .tunnelled, .closed:
            break
        }
    }

    /// The HTTP/1.1 decoder could not parse the request.
    mutating func requestUnparsable(headersTooLarge: Bool, now: NIODeadline, into actions: inout [ProxyAction]) {
        switch state {
        case .idle, .readingHead:
            nextID += 1
            let reason = headersTooLarge ? "headers_too_large" : "malformed_request"
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "-")
            state = .busy
            closeAfterResponse = true
            exchange = Exchange(
                id: ExchangeID(value: nextID), head: head, framing: .none, started: now,
                log: ExchangeLog(client: client, method: "-", host: nil, path: "-", route: "-", outcome: "bad_request",
                                 reason: reason, user: nil),
                requestComplete: true, bodyProgress: now
            )
            respond(headersTooLarge ? .requestHeaderFieldsTooLarge : .badRequest, reason: reason,
                    message: "the request could not be parsed", now: now, into: &actions)
        case .busy where exchange?.requestComplete == true && configuration.isHTTP1:
            // What follows a complete request is unparsable: that request is answered first,
            // like any pipelined one, then this one is refused.
            queue(.unparsable(headersTooLarge: headersTooLarge), now: now, into: &actions)
        case .busy:
            if let exchange, !exchange.responseStarted {
                releaseUpstream(reusable: false, into: &actions)
                stopReading()
                respond(.badRequest, reason: "malformed_request", message: "the request could not be parsed", now: now, into: &actions)
            } else {
                abort(reason: "malformed_request", now: now, into: &actions)
            }
        case .lingering, .upgrading, .tunnelled, .closed:
            closeNow(reason: "malformed_request", now: now, into: &actions)
        }
    }

    mutating func clientReadComplete(into actions: inout [ProxyAction]) {
        if case .busy = state, exchange?.phase == .forwarding, exchange?.requestComplete == false {
            actions.append(.flushUpstream)
        }
    }

    /// The pipeline asks to read from the client.
    mutating func readRequested(now: NIODeadline, into actions: inout [ProxyAction]) {
        if wantsClientReads {
            actions.append(.read)
        } else {
            readPending = true
        }
    }

    private var wantsClientReads: Bool {
        // What pipelined requests brought is held; no more is read until they are answered.
        guard pipelined.count < configuration.pipelineLimit, pipelinedBytes < 65_536 else { return false }
        switch state {
        case .idle, .readingHead:
            // A client that does not read its answers gets no more of its requests read.
            return clientWritable
        case .lingering:
            return true
        case .busy:
            guard let exchange else { return clientWritable }
            switch exchange.phase {
            case .deciding, .connecting, .responding: return exchange.requestComplete && configuration.isHTTP1 && clientWritable
            case .forwarding: return exchange.requestComplete ? configuration.isHTTP1 && clientWritable : upstreamWritable
            }
        case .upgrading, .tunnelled, .closed:
            return false
        }
    }

    private mutating func resumeReadsIfWanted(now: NIODeadline, into actions: inout [ProxyAction]) {
        guard readPending, wantsClientReads else { return }
        readPending = false
        if let exchange, exchange.phase == .forwarding, !exchange.requestComplete {
            // The body deadline counts from when reading resumed.
            exchange.bodyProgress = now
        }
        actions.append(.read)
    }

    mutating func clientWritabilityChanged(isWritable: Bool, now: NIODeadline, into actions: inout [ProxyAction]) {
        clientWritable = isWritable
        clientBlockedSince = isWritable ? nil : (clientBlockedSince ?? now)
        if exchange?.phase == .forwarding { actions.append(.setUpstreamReads(isWritable)) }
        guard isWritable else { return }
        if isIdle { drainPipeline(now: now, into: &actions) }
        resumeReadsIfWanted(now: now, into: &actions)
    }

    mutating func clientClosed(now: NIODeadline, into actions: inout [ProxyAction]) {
        switch state {
        case .busy, .upgrading:
            if let exchange {
                if exchange.phase == .forwarding { actions.append(.releaseUpstream(reusable: false)) }
                finish(outcome: "aborted", reason: "client_closed", now: now, into: &actions)
            }
        case .idle, .readingHead, .lingering, .tunnelled, .closed:
            break
        }
        state = .closed
        exchange = nil
        pipelined.removeAll()
        pipelinedBytes = 0
        clientBlockedSince = nil
    }

    /// Graceful shutdown: finish what is in flight, then close.
    mutating func quiesce(into actions: inout [ProxyAction]) {
        closeAfterResponse = true
        switch state {
        case .idle, .readingHead:
            state = .closed
            actions.append(.closeClient)
        case .busy, .lingering, .upgrading, .tunnelled, .closed:
            break
        }
    }

    // MARK: decisions and upstream connections

    mutating func decided(_ id: ExchangeID, plan: ExchangePlan, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard let exchange, exchange.id == id, exchange.phase == .deciding, state == .busy else { return }
        switch plan {
        case .respond(let refusal):
            exchange.log = refusal.log
            if refusal.closesConnection { stopReading() }
            send(refusal.head, body: refusal.body, now: now, into: &actions)
        case .forward(let forward):
            exchange.log = forward.log
            exchange.plan = forward
            exchange.phase = .connecting
            if !exchange.requestComplete, exchange.framing != .none, Self.expectsContinue(exchange.head) {
                actions.append(.writeClient(.head(HTTPResponseHead(version: exchange.head.version, status: .continue))))
                actions.append(.flushClient)
            }
            // A WebSocket upgrade takes a new connection: servers built on SwiftNIO's upgrader
            // (Vapor, Hummingbird) upgrade only the first request of a connection, and the
            // tunnel would end the pooled connection's life anyway.
            actions.append(.connect(id, forward, fresh: forward.isWebSocketUpgrade))
        }
    }

    /// Methods that may be sent again when a kept connection turns out to be closed: safe ones
    /// only, since the upstream may have acted on the first attempt before it closed.
    static func isRetrySafe(_ method: HTTPMethod) -> Bool {
        method == .GET || method == .HEAD || method == .OPTIONS
    }

    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains { RequestFraming.isExactly($0.name, "expect") && HeaderTokens.contains($0.value, token: "100-continue") }
    }

    /// Whether exchange `id` is waiting for an upstream connection (an answer to `connect`
    /// that arrives when it is not belongs to an exchange that is gone).
    func awaitsUpstream(_ id: ExchangeID) -> Bool {
        state == .busy && exchange?.id == id && exchange?.phase == .connecting
    }

    mutating func upstreamAttached(_ id: ExchangeID, reused: Bool, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard awaitsUpstream(id), let exchange, let plan = exchange.plan else { return }
        exchange.phase = .forwarding
        exchange.upstreamReused = reused
        upstreamWritable = true
        upstreamBlockedSince = nil
        // A long upload that carries an identity is checked again like a long response.
        if plan.identityUserID != nil { exchange.revalidateAt = now + configuration.revalidationInterval }
        actions.append(.setUpstreamReads(clientWritable))
        actions.append(.writeUpstream(.head(plan.upstreamHead)))
        while let buffer = exchange.held.popFirst() {
            actions.append(.writeUpstream(.body(.byteBuffer(buffer))))
        }
        exchange.heldBytes = 0
        if exchange.requestComplete {
            actions.append(.writeUpstream(.end(nil)))
            exchange.responseDeadline = now + plan.responseTimeout
        }
        actions.append(.flushUpstream)
        exchange.bodyProgress = now
        resumeReadsIfWanted(now: now, into: &actions)
    }

    mutating func upstreamConnectFailed(_ id: ExchangeID, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard awaitsUpstream(id), let exchange else { return }
        actions.append(.recordUpstreamError(route: exchange.log.route, kind: "unavailable"))
        respond(.badGateway, reason: "upstream_unavailable", message: "the upstream for this page cannot be reached", now: now,
                into: &actions)
    }

    mutating func upstreamWritabilityChanged(isWritable: Bool, now: NIODeadline, into actions: inout [ProxyAction]) {
        upstreamWritable = isWritable
        upstreamBlockedSince = isWritable ? nil : (upstreamBlockedSince ?? now)
        if isWritable { resumeReadsIfWanted(now: now, into: &actions) }
    }

    // MARK: upstream → client

    mutating func upstreamResponseHeadReceived(_ head: HTTPResponseHead, now: NIODeadline, into actions: inout [ProxyAction]) {
        lastActivity = now
        guard let exchange, state == .busy, exchange.phase == .forwarding, !exchange.responseStarted, let plan = exchange.plan else {
            return
        }
        exchange.responseDeadline = nil
        if head.status == .switchingProtocols {
            guard plan.isWebSocketUpgrade, exchange.requestComplete else {
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "protocol"))
                releaseUpstream(reusable: false, into: &actions)
                respond(.badGateway, reason: "upstream_protocol_error", message: "the upstream switched protocols unasked",
                        now: now, into: &actions)
                return
            }
            guard let accept = plan.webSocketAccept, WebSocketHandshake.isAnswer(head, accept: accept) else {
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "protocol"))
                releaseUpstream(reusable: false, into: &actions)
                respond(.badGateway, reason: "upstream_protocol_error",
                        message: "the upstream's 101 does not answer the WebSocket handshake (Upgrade: websocket and the Sec-WebSocket-Accept of the key)",
                        now: now, into: &actions)
                return
            }
            exchange.responseStarted = true
            exchange.status = head.status.code
            state = .upgrading
            let response = UpstreamResponseBuilder.build(
                head, hsts: configuration.hsts, isUpgrade: true, extraHeaders: plan.responseHeaders, ownCookieNames: plan.ownCookieNames
            )
            if response.droppedOwnCookie { actions.append(.droppedOwnCookie(route: exchange.log.route)) }
            actions.append(.writeClient(.head(response.head)))
            actions.append(.flushClient)
            return
        }
        exchange.responseStarted = true
        exchange.status = head.status.code
        exchange.upstreamReusable = head.isKeepAlive
            && UpstreamResponseBuilder.hasDefiniteFraming(head, requestMethod: plan.upstreamHead.method)
        if plan.identityUserID != nil { exchange.revalidateAt = now + configuration.revalidationInterval }
        if configuration.isHTTP1, exchange.bodyOutstanding(isHTTP1: configuration.isHTTP1) {
            // Answered before the request body arrived in full: the rest of the body cannot be
            // forwarded, so this connection ends with the response.
            closeAfterResponse = true
        }
        let built = UpstreamResponseBuilder.build(
            head, hsts: configuration.hsts, isUpgrade: false, extraHeaders: plan.responseHeaders, ownCookieNames: plan.ownCookieNames
        )
        if built.droppedOwnCookie { actions.append(.droppedOwnCookie(route: exchange.log.route)) }
        var response = built.head
        if closeAfterResponse, configuration.isHTTP1 { response.headers.replaceOrAdd(name: "Connection", value: "close") }
        actions.append(.writeClient(.head(response)))
    }

    mutating func upstreamResponseBodyReceived(_ buffer: ByteBuffer, now: NIODeadline, into actions: inout [ProxyAction]) {
        lastActivity = now
        guard let exchange, state == .busy, exchange.phase == .forwarding, exchange.responseStarted else { return }
        exchange.bytesOut += buffer.readableBytes
        actions.append(.writeClient(.body(.byteBuffer(buffer))))
    }

    mutating func upstreamResponseEndReceived(now: NIODeadline, into actions: inout [ProxyAction]) {
        lastActivity = now
        switch state {
        case .upgrading:
            guard let exchange else { return }
            let userID = exchange.plan?.identityUserID
            finish(outcome: nil, reason: nil, now: now, into: &actions)
            state = .tunnelled
            actions.append(.startTunnel(head: exchange.head, identityUserID: userID))
        case .busy:
            guard let exchange, exchange.phase == .forwarding, exchange.responseStarted else { return }
            let reusable = exchange.upstreamReusable && !exchange.bodyOutstanding(isHTTP1: configuration.isHTTP1)
            actions.append(.releaseUpstream(reusable: reusable))
            if exchange.bodyOutstanding(isHTTP1: configuration.isHTTP1) { closeAfterResponse = true }
            endResponse(now: now, into: &actions)
        case .idle, .readingHead, .lingering, .tunnelled, .closed:
            break
        }
    }

    mutating func upstreamReadComplete(into actions: inout [ProxyAction]) {
        if state == .busy, exchange?.responseStarted == true { actions.append(.flushClient) }
    }

    mutating func upstreamClosed(now: NIODeadline, into actions: inout [ProxyAction]) {
        switch state {
        case .upgrading:
            abort(reason: "upstream_closed", now: now, into: &actions)
        case .busy:
            guard let exchange, exchange.phase == .forwarding else { return }
            if !exchange.responseStarted {
                // A kept or pooled connection the upstream had already closed: try once more on
                // a fresh one, when no body could have been lost.
                if exchange.upstreamReused, !exchange.retried, exchange.framing == .none, Self.isRetrySafe(exchange.head.method),
                   let plan = exchange.plan {
                    exchange.retried = true
                    exchange.upstreamReused = false
                    exchange.phase = .connecting
                    exchange.responseDeadline = nil
                    actions.append(.releaseUpstream(reusable: false))
                    actions.append(.connect(exchange.id, plan, fresh: true))
                    return
                }
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "reset"))
                releaseUpstream(reusable: false, into: &actions)
                respond(.badGateway, reason: "upstream_unavailable", message: "the upstream closed the connection", now: now,
                        into: &actions)
            } else {
                actions.append(.recordUpstreamError(route: exchange.log.route, kind: "reset"))
                abort(reason: "upstream_closed", now: now, into: &actions)
            }
        case .idle, .readingHead, .lingering, .tunnelled, .closed:
            break
        }
    }

    /// The answer to ``ProxyAction/revalidate``.
    mutating func credentialChecked(_ id: ExchangeID, stillValid: Bool, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard let exchange, exchange.id == id else { return }
        exchange.revalidating = false
        if stillValid {
            self.exchange?.revalidateAt = now + configuration.revalidationInterval
        } else {
            abort(reason: "credential_ended", now: now, into: &actions)
        }
    }

    // MARK: responding and finishing

    /// A response of the gateway's own, in the client's language.
    private mutating func respond(
        _ status: HTTPResponseStatus, reason: String, message: String, now: NIODeadline, into actions: inout [ProxyAction]
    ) {
        guard let exchange else { return }
        if exchange.log.outcome == AccessDecision.Outcome.allow.rawValue {
            exchange.log.outcome = RefusalResponse.Kind(status: status).rawValue
        }
        exchange.log.reason = reason
        let (head, body) = RefusalResponse.make(
            kind: RefusalResponse.Kind(status: status), reason: reason, message: message,
            html: RefusalResponse.prefersHTML(exchange.head.headers) && (exchange.head.method == .GET || exchange.head.method == .HEAD),
            loginLocation: nil, hsts: configuration.hsts, allocator: ByteBufferAllocator()
        )
        send(head, body: body, now: now, into: &actions)
    }

    /// Sends a complete response of the gateway's own (a refusal or an error). When the
    /// request body has not been read in full, the connection closes after it.
    private mutating func send(_ head: HTTPResponseHead, body: ByteBuffer, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard let exchange, !exchange.responseStarted else { return }
        let unreadBody = exchange.bodyOutstanding(isHTTP1: configuration.isHTTP1)
        if unreadBody { closeAfterResponse = true }
        var head = head
        head.version = .http1_1
        if closeAfterResponse, configuration.isHTTP1 { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        exchange.phase = .responding
        exchange.responseStarted = true
        exchange.status = head.status.code
        exchange.bytesOut += body.readableBytes
        exchange.held.removeAll()
        exchange.heldBytes = 0
        actions.append(.writeClient(.head(head)))
        if exchange.head.method != .HEAD { actions.append(.writeClient(.body(.byteBuffer(body)))) }
        if unreadBody, configuration.isHTTP1 {
            // Read a little of what the client is still sending, so the refusal is not lost to
            // a reset, then close (``ConnectionState/lingering``).
            actions.append(.writeClient(.end(nil)))
            actions.append(.flushClient)
            finish(outcome: nil, reason: nil, now: now, into: &actions)
            state = .lingering(deadline: now + configuration.lingerTimeout, discarded: 0)
            resumeReadsIfWanted(now: now, into: &actions)
            return
        }
        endResponse(now: now, into: &actions)
    }

    /// Writes the response's end, logs the exchange and moves on: the next pipelined request,
    /// idle, or closed.
    private mutating func endResponse(now: NIODeadline, into actions: inout [ProxyAction]) {
        if closeAfterResponse || !configuration.isHTTP1 {
            if closeAfterResponse {
                actions.append(.writeClientThenClose(.end(nil)))
            } else {
                actions.append(.writeClient(.end(nil)))
                actions.append(.flushClient)
            }
            finish(outcome: nil, reason: nil, now: now, into: &actions)
            state = .closed
            pipelined.removeAll()
            pipelinedBytes = 0
            return
        }
        actions.append(.writeClient(.end(nil)))
        actions.append(.flushClient)
        finish(outcome: nil, reason: nil, now: now, into: &actions)
        state = .idle(deadline: now + configuration.idleTimeout)
        drainPipeline(now: now, into: &actions)
        resumeReadsIfWanted(now: now, into: &actions)
    }

    /// Starts the pipelined requests that waited, up to the next one that must wait again.
    private mutating func drainPipeline(now: NIODeadline, into actions: inout [ProxyAction]) {
        while let next = pipelined.first {
            switch next {
            case .part(.head), .unparsable: if !isIdle || (configuration.isHTTP1 && !clientWritable) { return }
            case .part(.body), .part(.end): break
            }
            pipelined.removeFirst()
            if case .part(.body(let buffer)) = next { pipelinedBytes -= buffer.readableBytes }
            switch next {
            case .part(.head(let head)): start(head, now: now, into: &actions)
            case .part(.body(let buffer)): bodyReceived(buffer, now: now, into: &actions)
            case .part(.end): endReceived(now: now, into: &actions)
            case .unparsable(let headersTooLarge): requestUnparsable(headersTooLarge: headersTooLarge, now: now, into: &actions)
            }
            if state == .closed { return }
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Ends the exchange in flight without a proper response end: the connection closes.
    private mutating func abort(reason: String, now: NIODeadline, into actions: inout [ProxyAction]) {
        if let exchange, exchange.phase == .forwarding || state == .upgrading {
            actions.append(.releaseUpstream(reusable: false))
        }
        if exchange != nil { finish(outcome: "aborted", reason: reason, now: now, into: &actions) }
        closeNow(reason: reason, now: now, into: &actions)
    }

    private mutating func closeNow(reason: String, now: NIODeadline, into actions: inout [ProxyAction]) {
        if let exchange, state == .busy || state == .upgrading {
            if exchange.phase == .forwarding { actions.append(.releaseUpstream(reusable: false)) }
            finish(outcome: "aborted", reason: reason, now: now, into: &actions)
        }
        if state != .closed {
            state = .closed
            actions.append(.closeClient)
        }
        pipelined.removeAll()
        pipelinedBytes = 0
    }

    /// Lets go of the upstream connection of an exchange that ends without its response.
    private mutating func releaseUpstream(reusable: Bool, into actions: inout [ProxyAction]) {
        guard exchange?.phase == .forwarding else { return }
        exchange?.phase = .responding
        exchange?.responseDeadline = nil
        actions.append(.releaseUpstream(reusable: reusable))
    }

    /// Logs the exchange and forgets it.
    private mutating func finish(outcome: String?, reason: String?, now: NIODeadline, into actions: inout [ProxyAction]) {
        guard let exchange else { return }
        if let outcome { exchange.log.outcome = outcome }
        if let reason { exchange.log.reason = reason }
        actions.append(.log(ExchangeRecord(exchange: exchange, duration: now - exchange.started)))
        self.exchange = nil
    }
}
