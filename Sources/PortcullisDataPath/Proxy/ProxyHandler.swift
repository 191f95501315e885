import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// The data path for one HTTP/1.1 connection or one HTTP/2 stream: decides each request with
/// `AccessPolicy.evaluate`, then streams it to an upstream connection and the response back,
/// holding reads on whichever side cannot take more (backpressure both ways).
///
/// For HTTP/1.1 it also keeps the connection's deadlines (idle and header timeouts), answers
/// malformed requests with 400, serialises pipelined requests, and keeps its upstream connection
/// between requests to the same upstream.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// Waiting for the authenticator (a session not in the cache).
        case authenticating
        /// Waiting for an upstream connection.
        case connecting
        case proxying
        /// A refusal was sent; the rest of the request body is read and dropped.
        case refusing
        /// The upstream sent 101; the tunnel starts when its (empty) response ends.
        case upgrading
        /// A WebSocket tunnel took over the connection.
        case tunnelled
        case closed

        var isIdle: Bool {
            if case .idle = self { return true }
            return false
        }
    }

    /// Request bodies read and dropped after a refusal, before the connection is closed instead.
    static let discardLimit = 1_048_576
    /// Pipelined parts held before reads stop.
    static let pipelineLimit = 64

    private let runtime: GatewayRuntime
    private let connection: ClientConnectionInfo
    private let pool: UpstreamPool
    private var context: ChannelHandlerContext?
    private(set) var state = State.idle
    private var exchange: Exchange?
    private var readPending = false
    private var discarded = 0
    /// HTTP/1.1 requests that arrived while another was in flight (pipelining), in order.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var drainingPipeline = false
    /// Close once the current response is done (HTTP/1.0, `Connection: close`, shutdown).
    private var closeAfterResponse = false
    /// The upstream connection kept from the last request, for the next one to the same place.
    private var keptUpstream: UpstreamConnection?
    /// HTTP/1.1 only: idle and header deadlines.
    private var deadlines: HTTP1ConnectionTimeoutStateMachine?
    private var deadlineTimer: Scheduled<Void>?
    private var deadlineTimerAt: NIODeadline?

    init(runtime: GatewayRuntime, connection: ClientConnectionInfo, pool: UpstreamPool, limits: ServerLimits?) {
        self.runtime = runtime
        self.connection = connection
        self.pool = pool
        if let limits {
            deadlines = HTTP1ConnectionTimeoutStateMachine(
                idleTimeout: TimeAmount(limits.idleTimeout), headerTimeout: TimeAmount(limits.headerTimeout), now: .now()
            )
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let deadline = deadlines?.deadline { apply(.schedule(deadline)) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineTimer?.cancel()
        deadlineTimer = nil
        self.context = nil
    }

    // MARK: client → gateway

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !pipelined.isEmpty || (part.isHead && !state.isIdle) {
            // A pipelined request: it waits until the one in flight is answered.
            guard connection.isHTTP1, pipelined.count < Self.pipelineLimit * 4 else {
                context.close(promise: nil)
                return
            }
            pipelined.append(part)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard state.isIdle else {
                context.close(promise: nil)
                return
            }
            if let action = deadlines?.requestHeadReceived() { apply(action) }
            if !head.isKeepAlive, connection.isHTTP1 { closeAfterResponse = true }
            start(head, context: context)
        case .body(let buffer):
            guard let exchange else { return }
            exchange.bytesIn += buffer.readableBytes
            switch state {
            case .authenticating, .connecting:
                exchange.buffered.append(part)
            case .proxying:
                exchange.upstream?.handler.write(.body(.byteBuffer(buffer)), promise: nil)
            case .refusing:
                discarded += buffer.readableBytes
                if discarded > Self.discardLimit { context.close(promise: nil) }
            case .idle, .tunnelled, .closed, .upgrading:
                break
            }
        case .end(let trailers):
            guard let exchange else { return }
            exchange.requestEnded = true
            switch state {
            case .authenticating, .connecting:
                exchange.buffered.append(part)
            case .proxying:
                if let upstream = exchange.upstream {
                    upstream.handler.write(.end(trailers), promise: nil)
                    upstream.handler.flush()
                    armResponseTimer(exchange)
                }
            case .refusing:
                if exchange.responseEnded { finish(exchange) }
            case .idle, .tunnelled, .closed, .upgrading:
                break
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying = state { exchange?.upstream?.handler.flush() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if pipelined.count >= Self.pipelineLimit {
            readPending = true
            return
        }
        switch state {
        case .authenticating, .connecting:
            readPending = true
        case .proxying:
            if exchange?.upstream?.isWritable ?? true {
                context.read()
            } else {
                readPending = true
            }
        case .idle, .refusing, .tunnelled, .closed:
            context.read()
        case .upgrading:
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstream?.handler.setReadsAllowed(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if let exchange {
            if !exchange.responseEnded {
                exchange.responseDeadline = nil
                if let upstream = exchange.upstream {
                    exchange.upstream = nil
                    pool.release(upstream, reusable: false)
                }
                exchange.outcomeOverride = "aborted"
                exchange.reasonOverride = "client_closed"
            }
            // An HTTP/2 stream closes as soon as its response ends, before `finish` runs.
            log(exchange)
        }
        if let kept = keptUpstream {
            keptUpstream = nil
            pool.release(kept, reusable: true)
        }
        exchange = nil
        state = .closed
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: finish the request in flight, then close.
            closeAfterResponse = true
            if state.isIdle, pipelined.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, connection.isHTTP1, state.isIdle || exchange == nil {
            // A request the decoder cannot parse (too large a head, bad syntax): say so and close.
            var headers = HTTPHeaders()
            let tooLarge = (error as? HTTPParserError) == .headerOverflow
            let body = tooLarge ? "{\"error\":\"bad_request\",\"reason\":\"headers_too_large\"}" : "{\"error\":\"bad_request\",\"reason\":\"malformed_request\"}"
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            headers.add(name: "Connection", value: "close")
            let status: HTTPResponseStatus = tooLarge ? .requestHeaderFieldsTooLarge : .badRequest
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                channel.close(promise: nil)
            }
            state = .closed
            return
        }
        runtime.logger.debug("client connection error", metadata: ["error": "\(error)", "client": "\(connection.peer)"])
        context.close(promise: nil)
    }

    // MARK: deadlines (HTTP/1.1)

    /// Called by ``InboundByteObserver``.
    func bytesReceived() {
        if let action = deadlines?.bytesReceived(now: .now()) { apply(action) }
    }

    private func apply(_ action: HTTP1ConnectionTimeoutStateMachine.Action) {
        guard let context else { return }
        switch action {
        case .none, .cancelTimer:
            // A pending timer finds nothing to do when it fires; no churn per request.
            break
        case .schedule(let deadline):
            ensureTimer(firingBy: deadline, context: context)
        case .close:
            deadlineTimer?.cancel()
            deadlineTimer = nil
            runtime.logger.debug("closing a slow or idle connection", metadata: ["client": "\(connection.peer)"])
            context.close(promise: nil)
        }
    }

    /// One timer per handler serves the connection deadlines and the response timeout. A later
    /// deadline leaves a pending timer alone: it fires early, finds nothing due, and re-arms for
    /// what is due next. So a busy connection does not create and cancel timers per request.
    private func ensureTimer(firingBy deadline: NIODeadline, context: ChannelHandlerContext) {
        if deadlineTimer != nil, let pending = deadlineTimerAt, pending <= deadline { return }
        deadlineTimer?.cancel()
        deadlineTimerAt = deadline
        deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        deadlineTimer = nil
        deadlineTimerAt = nil
        guard let context else { return }
        let now = NIODeadline.now()
        if let exchange, let due = exchange.responseDeadline, !exchange.responseHeadSent {
            if now >= due {
                exchange.responseDeadline = nil
                responseTimedOut(exchange)
            } else {
                ensureTimer(firingBy: due, context: context)
            }
        }
        if let action = deadlines?.timerFired(now: now) { apply(action) }
    }

    // MARK: deciding

    private func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let snapshot = runtime.snapshot
        let resolution = snapshot.clientAddresses.hasTrustedProxies
            ? snapshot.clientAddresses.resolve(peer: connection.peer, forwardedFor: head.headers[canonicalForm: "x-forwarded-for"].map(String.init))
            : .address(connection.peer)
        let client: IPAddress
        switch resolution {
        case .address(let address): client = address
        case .malformed: client = connection.peer
        }
        let exchange = Exchange(head: head, client: client, snapshot: snapshot)
        self.exchange = exchange
        discarded = 0
        if case .malformed = resolution {
            refuse(exchange, kind: .badRequest, reason: ReasonCode.badForwardedFor.rawValue,
                   message: ReasonCode.badForwardedFor.explanation, context: context)
            return
        }
        guard let authenticator = runtime.authenticator, Self.carriesCredentials(head.headers) else {
            decide(exchange, authentication: .anonymous, context: context)
            return
        }
        let request = AuthenticationRequest(headers: head.headers, client: client, now: Date())
        switch authenticator.authenticate(request, on: context.eventLoop) {
        case .resolved(let authentication):
            decide(exchange, authentication: authentication, context: context)
        case .pending(let future):
            state = .authenticating
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { [weak self] result in
                guard let self, self.exchange === exchange, case .authenticating = self.state, let context = self.context else { return }
                switch result {
                case .success(let authentication):
                    self.decide(exchange, authentication: authentication, context: context)
                case .failure:
                    self.decide(exchange, authentication: Authentication(identity: .rejected(.sessionUnverifiable)), context: context)
                }
            }
        }
    }

    static func carriesCredentials(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "cookie") || headers.contains(name: "authorization")
    }

    private func decide(_ exchange: Exchange, authentication: Authentication, context: ChannelHandlerContext) {
        exchange.authentication = authentication
        let head = exchange.head
        let host = head.headers.first(name: "host")
        let decision = exchange.snapshot.policy.evaluate(
            AccessRequest(method: head.method.rawValue, host: host, target: head.uri, client: exchange.client, identity: authentication.identity),
            now: Date()
        )
        exchange.decision = decision
        exchange.route = decision.route
        guard decision.isAllowed, let route = decision.route, let target = decision.target else {
            refuse(exchange, decision: decision, context: context)
            return
        }
        if head.method == .CONNECT {
            refuse(exchange, kind: .methodNotAllowed, reason: ReasonCode.methodNotAllowed.rawValue, message: "CONNECT is not proxied", context: context)
            return
        }
        if head.method == .TRACE, exchange.requestHasBody {
            refuse(exchange, kind: .badRequest, reason: "body_not_allowed", message: "this method does not take a request body", context: context)
            return
        }
        let upstream: Upstream
        switch route.target {
        case .upstream(let configured):
            upstream = configured
        case .controlPlane:
            guard let controlPlane = runtime.controlPlane else {
                refuse(exchange, kind: .notFound, reason: ReasonCode.noRoute.rawValue, message: ReasonCode.noRoute.explanation, context: context)
                return
            }
            upstream = controlPlane
        }
        var identityHeaders = authentication.upstreamHeaders(route)
        if route.target == .controlPlane {
            identityHeaders.append(contentsOf: ControlPlaneHandOff.headers(
                token: runtime.controlPlaneToken, client: exchange.client, identity: authentication.identity, now: Date()
            ))
        }
        exchange.upstreamHead = UpstreamRequestBuilder.build(UpstreamRequestBuilder.Input(
            head: head,
            target: target,
            upstream: upstream,
            client: exchange.client,
            peer: connection.peer,
            peerIsTrustedProxy: exchange.snapshot.clientAddresses.hasTrustedProxies && exchange.snapshot.clientAddresses.isTrusted(connection.peer),
            originalHost: host,
            isWebSocketUpgrade: exchange.isWebSocketUpgrade,
            identityHeaders: identityHeaders,
            ownCookieNames: route.target == .controlPlane ? [] : exchange.snapshot.ownCookieNames,
            stripAuthorization: authentication.consumedAuthorization && route.target != .controlPlane
        ))
        if !exchange.requestEnded, head.headers.contains(name: "expect"),
           head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        connect(exchange, to: upstream, route: route, context: context)
    }

    private func connect(_ exchange: Exchange, to upstream: Upstream, route: Route, context: ChannelHandlerContext) {
        state = .connecting
        let tls = upstream.scheme == .https ? exchange.snapshot.upstreamTLS[route.name] : nil
        if upstream.scheme == .https, tls == nil {
            refuse(exchange, kind: .badGateway, reason: "upstream_unavailable", message: "no TLS settings for this upstream", context: context)
            return
        }
        // The connection kept from this client's last request, when it goes to the same place.
        if let kept = keptUpstream {
            keptUpstream = nil
            if kept.key == UpstreamPool.Key(upstream: upstream, tls: tls), kept.isActive {
                exchange.reusedConnection = true
                attach(kept, to: exchange, context: context)
                return
            }
            pool.release(kept, reusable: true)
        }
        pool.acquire(upstream, tls: tls, connectTimeout: TimeAmount(route.timeouts.connect)) { [weak self] result, reused in
            guard let self, self.exchange === exchange, case .connecting = self.state, let context = self.context else {
                if case .success(let connection) = result { self?.pool.release(connection, reusable: false) }
                return
            }
            switch result {
            case .failure(let error):
                self.runtime.metrics.recordUpstreamError(route: route.name, kind: "unavailable")
                self.runtime.logger.warning("upstream unavailable", metadata: ["route": "\(route.name)", "error": "\(error)"])
                self.refuse(exchange, kind: .badGateway, reason: "upstream_unavailable",
                            message: "the upstream for this page cannot be reached", context: context)
            case .success(let connection):
                exchange.reusedConnection = reused
                self.attach(connection, to: exchange, context: context)
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to exchange: Exchange, context: ChannelHandlerContext) {
        guard let head = exchange.upstreamHead else { return }
        exchange.upstream = connection
        connection.handler.receiver = self
        connection.handler.setReadsAllowed(context.channel.isWritable)
        state = .proxying
        connection.handler.write(.head(head), promise: nil)
        if !exchange.buffered.isEmpty {
            let buffered = exchange.buffered
            exchange.buffered = []
            for part in buffered {
                switch part {
                case .body(let buffer): connection.handler.write(.body(.byteBuffer(buffer)), promise: nil)
                case .end(let trailers): connection.handler.write(.end(trailers), promise: nil)
                case .head: break
                }
            }
        }
        connection.handler.flush()
        if exchange.requestEnded { armResponseTimer(exchange) }
        if readPending, connection.isWritable {
            readPending = false
            context.read()
        }
    }

    private func armResponseTimer(_ exchange: Exchange) {
        guard !exchange.responseHeadSent, exchange.responseDeadline == nil, let route = exchange.route, let context else { return }
        let due = NIODeadline.now() + TimeAmount(route.timeouts.response)
        exchange.responseDeadline = due
        ensureTimer(firingBy: due, context: context)
    }

    private func responseTimedOut(_ exchange: Exchange) {
        guard self.exchange === exchange, !exchange.responseHeadSent, let context else { return }
        runtime.metrics.recordUpstreamError(route: exchange.route?.name ?? "", kind: "timeout")
        refuse(exchange, kind: .gatewayTimeout, reason: "upstream_timeout", message: "the upstream for this page did not answer in time", context: context)
    }

    // MARK: refusing

    private func refuse(_ exchange: Exchange, decision: AccessDecision, context: ChannelHandlerContext) {
        var message = decision.reason.explanation
        if case .permission(let permission) = decision.requirement { message += " (\(permission.rawValue))" }
        if case .role(let role) = decision.requirement { message += " (\(role))" }
        if let list = decision.refusingGreenlist, decision.reason == .ipNotGreenlisted {
            message += " (\(exchange.client) is not in \(list))"
        }
        refuse(exchange, kind: RefusalResponse.Kind(decision.outcome), reason: decision.reason.rawValue, message: message, context: context)
    }

    private func refuse(_ exchange: Exchange, kind: RefusalResponse.Kind, reason: String, message: String, context: ChannelHandlerContext) {
        exchange.responseDeadline = nil
        if let upstream = exchange.upstream {
            exchange.upstream = nil
            pool.release(upstream, reusable: false)
        }
        exchange.buffered = []
        exchange.reasonOverride = reason
        if exchange.decision?.isAllowed ?? true { exchange.outcomeOverride = kind.rawValue }
        if exchange.responseHeadSent {
            context.close(promise: nil)
            return
        }
        state = .refusing
        let method = exchange.head.method
        let html = RefusalResponse.prefersHTML(exchange.head.headers) && (method == .GET || method == .HEAD)
        let login = kind == .unauthenticated ? LoginRedirect.location(returningTo: exchange.head.uri, reason: reason) : nil
        var (head, body) = RefusalResponse.make(
            kind: kind, reason: reason, message: message, html: html, loginLocation: login,
            hsts: exchange.snapshot.hsts, allocator: context.channel.allocator
        )
        if closeAfterResponse, connection.isHTTP1 { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        exchange.status = head.status.code
        exchange.responseHeadSent = true
        exchange.bytesOut = body.readableBytes
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        exchange.responseEnded = true
        writeEnd(nil, context: context)
        if exchange.requestEnded {
            finish(exchange)
        } else if readPending {
            readPending = false
            context.read()
        }
    }

    /// Writes and flushes a response's end; closes afterwards when the connection must end.
    private func writeEnd(_ trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        if closeAfterResponse {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                channel.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    // MARK: completing

    private func finish(_ exchange: Exchange) {
        guard self.exchange === exchange else { return }
        exchange.responseDeadline = nil
        log(exchange)
        self.exchange = nil
        state = .idle
        if let action = deadlines?.responseCompleted(now: .now()) { apply(action) }
        guard let context else { return }
        if closeAfterResponse {
            pipelined.removeAll()
            return
        }
        drainPipeline(context: context)
        if readPending, pipelined.count < Self.pipelineLimit {
            switch state {
            case .idle, .proxying, .refusing:
                readPending = false
                context.read()
            case .authenticating, .connecting, .tunnelled, .closed, .upgrading:
                break
            }
        }
    }

    /// Starts the next pipelined request, if any, now that the previous one is answered.
    private func drainPipeline(context: ChannelHandlerContext) {
        guard !drainingPipeline else { return }
        drainingPipeline = true
        defer { drainingPipeline = false }
        while let next = pipelined.first {
            if next.isHead, !state.isIdle { return }
            pipelined.removeFirst()
            handle(next, context: context)
        }
    }

    private func log(_ exchange: Exchange) {
        let routeName = exchange.route?.name ?? "-"
        let decision = exchange.decision
        let outcome = exchange.outcomeOverride ?? decision?.outcome.rawValue ?? "bad_request"
        let reason = exchange.reasonOverride ?? decision?.reason.rawValue ?? "-"
        let elapsed = NIODeadline.now() - exchange.started
        runtime.metrics.recordRequest(route: routeName, decision: outcome, reason: reason, durationNanoseconds: elapsed.nanoseconds)
        var user: String?
        if case .user(let authenticated) = exchange.authentication.identity { user = authenticated.email }
        runtime.accessLog.record(AccessLog.Entry(
            client: exchange.client,
            method: exchange.head.method.rawValue,
            host: exchange.head.headers.first(name: "host"),
            path: decision?.target?.path.description ?? Self.pathForLog(exchange.head.uri),
            route: routeName,
            status: Int(exchange.status),
            decision: outcome,
            reason: reason,
            user: user,
            durationMicroseconds: elapsed.nanoseconds / 1_000,
            bytesIn: exchange.bytesIn,
            bytesOut: exchange.bytesOut,
            httpVersion: connection.httpVersion
        ))
    }

    /// The raw path without its query (which may carry tokens), bounded.
    static func pathForLog(_ uri: String) -> String {
        let path = uri.prefix { $0 != "?" && $0 != "#" }
        return String(path.prefix(256))
    }
}

extension HTTPServerRequestPart {
    var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}

// MARK: upstream → client

extension ProxyHandler: UpstreamResponseReceiver {
    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        if case .upgrading = state, case .end = part, let exchange, let upstream = exchange.upstream, let context {
            finishUpgrade(exchange, upstream: upstream, context: context)
            return
        }
        guard let exchange, case .proxying = state, let context else { return }
        switch part {
        case .head(let head):
            exchange.responseDeadline = nil
            exchange.status = head.status.code
            exchange.upstreamKeepAlive = head.isKeepAlive
            if head.status == .switchingProtocols {
                guard exchange.isWebSocketUpgrade, let upstream = exchange.upstream else {
                    refuse(exchange, kind: .badGateway, reason: "upstream_protocol_error", message: "the upstream switched protocols unasked", context: context)
                    return
                }
                startUpgrade(exchange, upstream: upstream, head: head, context: context)
                return
            }
            exchange.responseHeadSent = true
            var response = UpstreamResponseBuilder.build(head, hsts: exchange.snapshot.hsts, isUpgrade: false)
            if !exchange.requestEnded, connection.isHTTP1 {
                // Answered before the request body arrived in full: the connection cannot be reused.
                closeAfterResponse = true
            }
            if closeAfterResponse, connection.isHTTP1 { response.headers.replaceOrAdd(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let buffer):
            exchange.bytesOut += buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            exchange.responseEnded = true
            let reusable = exchange.requestEnded && exchange.upstreamKeepAlive
            if let upstream = exchange.upstream {
                exchange.upstream = nil
                if reusable, !closeAfterResponse, keptUpstream == nil {
                    upstream.handler.receiver = nil
                    keptUpstream = upstream
                } else {
                    pool.release(upstream, reusable: reusable)
                }
            }
            if !exchange.requestEnded {
                // The upstream answered before reading the whole body: the rest of the body
                // cannot be forwarded, so this connection (or stream) ends with the response.
                closeAfterResponse = true
            }
            writeEnd(trailers, context: context)
            finish(exchange)
        }
    }

    func upstreamDidReadComplete() {
        if case .proxying = state { context?.flush() }
    }

    func upstreamWritabilityDidChange(isWritable: Bool) {
        guard isWritable, readPending, case .proxying = state, let context else { return }
        readPending = false
        context.read()
    }

    func upstreamDidClose(error: (any Error)?) {
        guard let exchange, case .proxying = state, let context else { return }
        exchange.responseDeadline = nil
        exchange.upstream = nil
        if !exchange.responseHeadSent {
            // A kept or pooled connection the upstream had already closed: try once on a fresh
            // one when nothing of the request body was lost.
            if exchange.reusedConnection, !exchange.retried, !exchange.requestHasBody, exchange.bytesIn == 0,
               let route = exchange.route, let upstream = Self.upstream(of: route, runtime: runtime) {
                exchange.retried = true
                exchange.reusedConnection = false
                if exchange.requestEnded { exchange.buffered = [.end(nil)] }
                connect(exchange, to: upstream, route: route, context: context)
                return
            }
            runtime.metrics.recordUpstreamError(route: exchange.route?.name ?? "", kind: "reset")
            refuse(exchange, kind: .badGateway, reason: "upstream_unavailable", message: "the upstream closed the connection", context: context)
        } else {
            exchange.outcomeOverride = "aborted"
            exchange.reasonOverride = "upstream_closed"
            runtime.metrics.recordUpstreamError(route: exchange.route?.name ?? "", kind: "reset")
            log(exchange)
            self.exchange = nil
            state = .closed
            context.close(promise: nil)
        }
    }

    private static func upstream(of route: Route, runtime: GatewayRuntime) -> Upstream? {
        switch route.target {
        case .upstream(let upstream): upstream
        case .controlPlane: runtime.controlPlane
        }
    }
}

// MARK: WebSocket tunnel

extension ProxyHandler {
    /// The upstream agreed to switch protocols: send its 101 to the client. The tunnel starts
    /// once the upstream's decoder has finished the 101 message.
    private func startUpgrade(_ exchange: Exchange, upstream: UpstreamConnection, head: HTTPResponseHead, context: ChannelHandlerContext) {
        state = .upgrading
        exchange.responseHeadSent = true
        exchange.responseEnded = true
        deadlineTimer?.cancel()
        deadlineTimer = nil
        deadlines = nil
        let response = UpstreamResponseBuilder.build(head, hsts: exchange.snapshot.hsts, isUpgrade: true)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Replaces the HTTP handlers on both channels with a byte tunnel.
    private func finishUpgrade(_ exchange: Exchange, upstream: UpstreamConnection, context: ChannelHandlerContext) {
        state = .tunnelled
        upstream.handler.receiver = nil
        exchange.upstream = nil
        log(exchange)
        self.exchange = nil
        do {
            try WebSocketTunnel.splice(client: context.channel, upstream: upstream.channel)
        } catch {
            runtime.logger.warning("WebSocket tunnel could not start", metadata: ["error": "\(error)"])
            upstream.channel.close(promise: nil)
            context.close(promise: nil)
        }
    }
}
