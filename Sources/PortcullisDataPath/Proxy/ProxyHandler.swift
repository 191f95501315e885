import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisCore

/// The channel handler for one HTTP/1.1 connection or one HTTP/2 stream: a thin adapter that
/// feeds channel events to ``ProxyStateMachine`` and performs the actions it returns. All
/// request state is in the state machine; this holds only what touches channels: the context,
/// the upstream connection in use, the one kept for the next request, and one timer.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let runtime: GatewayRuntime
    private let connection: ClientConnectionInfo
    private let connector: any UpstreamConnector
    private var machine: ProxyStateMachine
    /// Actions not yet performed. Events that arrive while actions are performed (a synchronous
    /// callback) append here, so actions always run in the order they were produced.
    private var actions: [ProxyAction] = []
    private var performing = false
    private var context: ChannelHandlerContext?
    /// The upstream connection of the exchange in flight.
    private var upstream: UpstreamConnection?
    /// The connection kept from this client's last exchange, for the next one to the same place.
    private var kept: UpstreamConnection?
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?

    /// - Parameter now: the channel's event loop clock (`eventLoop.now`), which the handler
    ///   reads for every event; an embedded loop's clock is the test's.
    init(
        runtime: GatewayRuntime, connection: ClientConnectionInfo, connector: any UpstreamConnector,
        configuration: ProxyStateMachine.Configuration, now: NIODeadline
    ) {
        self.runtime = runtime
        self.connection = connection
        self.connector = connector
        machine = ProxyStateMachine(configuration: configuration, client: connection.peer, now: now)
    }

    /// The time of the read batch being handled (a TLS record's worth of request parts, or one
    /// upstream read), read once at its first event and forgotten at its read-complete; `nil`
    /// between batches.
    private var batchNow: NIODeadline?

    /// The event loop's clock: the batch's time within a read batch, else read now.
    private var now: NIODeadline { batchNow ?? (context?.eventLoop.now ?? .now()) }

    /// Starts a read batch: its events share one clock read.
    private func beginBatch() {
        if batchNow == nil { batchNow = context?.eventLoop.now ?? .now() }
    }

    /// The state machine's settings for a connection (HTTP/1.1) or a stream (HTTP/2).
    static func configuration(for snapshot: GatewaySnapshot, isHTTP1: Bool) -> ProxyStateMachine.Configuration {
        let limits = snapshot.configuration.server.limits
        let staleness = TimeAmount(snapshot.configuration.sessions.maxStaleness)
        return ProxyStateMachine.Configuration(
            isHTTP1: isHTTP1,
            idleTimeout: TimeAmount(isHTTP1 ? limits.idleTimeout : limits.streamIdleTimeout),
            headerTimeout: TimeAmount(limits.headerTimeout),
            bodyTimeout: TimeAmount(limits.bodyTimeout),
            sendTimeout: TimeAmount(limits.sendTimeout),
            revalidationInterval: max(.milliseconds(100), .nanoseconds(staleness.nanoseconds / 2)),
            hsts: snapshot.hsts
        )
    }

    /// The state machine, for tests.
    var state: ProxyStateMachine { machine }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    // MARK: events

    private func drive(_ event: (inout ProxyStateMachine, inout [ProxyAction]) -> Void) {
        event(&machine, &actions)
        guard !performing else { return }
        performing = true
        var index = 0
        while index < actions.count {
            let action = actions[index]
            index += 1
            perform(action)
        }
        actions.removeAll(keepingCapacity: true)
        performing = false
        armTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        beginBatch()
        let part = unwrapInboundIn(data)
        drive { $0.requestPartReceived(part, now: self.now, into: &$1) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        drive { $0.clientReadComplete(into: &$1) }
        batchNow = nil
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        drive { $0.readRequested(now: self.now, into: &$1) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        drive { $0.clientWritabilityChanged(isWritable: writable, now: self.now, into: &$1) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        drive { $0.clientClosed(now: self.now, into: &$1) }
        timer?.cancel()
        timer = nil
        if let upstream {
            self.upstream = nil
            connector.release(upstream, reusable: false)
        }
        if let kept {
            self.kept = nil
            connector.release(kept, reusable: true)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            drive { $0.quiesce(into: &$1) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, connection.isHTTP1 {
            drive { $0.requestUnparsable(headersTooLarge: parserError == .headerOverflow, now: self.now, into: &$1) }
            return
        }
        runtime.logger.debug("client connection error", metadata: ["error": "\(error)", "client": "\(connection.peer)"])
        guard !connection.isHTTP1 else {
            context.close(promise: nil)
            return
        }
        // An HTTP/2 stream is reset on the next tick: resetting it while its first HEADERS are
        // still being delivered reports the stream closed before it was opened, which
        // NIOHTTP2ServerConnectionManagementHandler cannot account for.
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute { bound.value.close(promise: nil) }
    }

    /// Called by ``InboundByteObserver`` when bytes arrive (HTTP/1.1 head deadline).
    func bytesReceived() {
        beginBatch()
        machine.bytesReceived(now: self.now)
        armTimer()
    }

    // MARK: actions

    private func perform(_ action: ProxyAction) {
        guard let context else { return }
        switch action {
        case .decide(let id, let head, let framing):
            decide(id, head: head, framing: framing, context: context)
        case .connect(let id, let plan, let fresh):
            connect(id, to: plan.target, fresh: fresh)
        case .writeUpstream(let part):
            upstream?.handler.write(part, promise: nil)
        case .flushUpstream:
            upstream?.handler.flush()
        case .releaseUpstream(let reusable):
            releaseUpstream(reusable: reusable)
        case .setUpstreamReads(let allowed):
            upstream?.handler.setReadsAllowed(allowed)
        case .writeClient(let part):
            context.write(wrapOutboundOut(part), promise: nil)
        case .writeClientThenClose(let part):
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(part)).assumeIsolated().whenComplete { _ in
                channel.close(promise: nil)
            }
        case .flushClient:
            context.flush()
        case .closeClient:
            context.close(promise: nil)
        case .read:
            context.read()
        case .startTunnel(let head, let userID):
            startTunnel(head: head, userID: userID, context: context)
        case .revalidate(let id, let head, let userID):
            revalidate(id, head: head, userID: userID, context: context)
        case .log(let record):
            log(record)
        case .recordUpstreamError(let route, let kind):
            runtime.metrics.recordUpstreamError(route: route, kind: kind)
        case .droppedOwnCookie(let route):
            runtime.logger.warning("the upstream tried to set the gateway's own cookie; the Set-Cookie was dropped", metadata: ["route": "\(route)"])
            runtime.metrics.recordUpstreamError(route: route, kind: "own_cookie")
        }
    }

    private func decide(_ id: ExchangeID, head: HTTPRequestHead, framing: RequestFraming, context: ChannelHandlerContext) {
        let snapshot = runtime.snapshot
        let resolved = ForwardAuth.endpoint(of: head) != nil
            ? ForwardAuth.client(of: head, peer: connection.peer, snapshot: snapshot)
            : RequestPlanner.clientAddress(of: head, peer: connection.peer, snapshot: snapshot)
        guard let client = resolved else {
            let plan = RequestPlanner.badForwardedFor(head, peer: connection.peer, snapshot: snapshot)
            drive { $0.decided(id, plan: plan, now: self.now, into: &$1) }
            return
        }
        // Outside the tenant greenlist nobody is looked up: the decision refuses the address.
        guard let authenticator = runtime.authenticator, RequestPlanner.carriesCredentials(head.headers),
              snapshot.policy.tenantAdmits(client) else {
            plan(id, head: head, framing: framing, client: client, authentication: .anonymous, snapshot: snapshot)
            return
        }
        let generation = authenticator.credentialGeneration
        let credential = CredentialMemo.Credential(head.headers)
        if let credential, let memo = connection.lastCredential,
           memo.answers(credential, client: client, generation: generation, now: .now) {
            plan(id, head: head, framing: framing, client: client, authentication: memo.authentication, snapshot: snapshot)
            return
        }
        let request = AuthenticationRequest(headers: head.headers, client: client, now: Date())
        switch authenticator.authenticate(request, on: context.eventLoop) {
        case .resolved(let authentication):
            let answer = remember(authentication, credential: credential, client: client, generation: generation)
            plan(id, head: head, framing: framing, client: client, authentication: answer, snapshot: snapshot)
        case .pending(let future):
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { [weak self] result in
                guard let self else { return }
                let authentication: Authentication
                switch result {
                case .success(let resolved):
                    authentication = self.remember(resolved, credential: credential, client: client, generation: generation)
                case .failure:
                    authentication = Authentication(identity: .rejected(.sessionUnverifiable))
                }
                self.plan(id, head: head, framing: framing, client: client, authentication: authentication, snapshot: snapshot)
            }
        }
    }

    /// Keeps a reusable signed-in answer for the connection's next requests (``CredentialMemo``)
    /// and answers the one to use now.
    private func remember(
        _ authentication: Authentication, credential: CredentialMemo.Credential?, client: IPAddress, generation: UInt64
    ) -> Authentication {
        guard let credential,
              let memo = CredentialMemo(credential: credential, client: client, generation: generation, authentication: authentication)
        else { return authentication }
        connection.lastCredential = memo
        return memo.authentication
    }

    private func plan(
        _ id: ExchangeID, head: HTTPRequestHead, framing: RequestFraming, client: IPAddress, authentication: Authentication,
        snapshot: GatewaySnapshot
    ) {
        let plan = RequestPlanner.plan(RequestPlanner.Input(
            head: head, framing: framing, client: client, peer: connection.peer,
            clientText: connection.text(of: client), peerText: connection.text(of: connection.peer), authentication: authentication,
            snapshot: snapshot, controlPlane: runtime.controlPlane, controlPlaneToken: runtime.controlPlaneToken,
            now: Date()
        ))
        drive { $0.decided(id, plan: plan, now: self.now, into: &$1) }
    }

    private func connect(_ id: ExchangeID, to target: UpstreamTarget, fresh: Bool) {
        if let kept {
            self.kept = nil
            if !fresh, kept.key == UpstreamPool.Key(target), kept.isActive {
                attach(kept, to: id, reused: true)
                return
            }
            connector.release(kept, reusable: true)
        }
        connector.acquire(target, fresh: fresh) { [weak self] result, reused in
            guard let self else {
                if case .success(let connection) = result { connection.channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let connection):
                self.attach(connection, to: id, reused: reused)
            case .failure(let error):
                self.runtime.logger.warning("upstream unavailable", metadata: ["route": "\(target.routeName)", "error": "\(error)"])
                self.drive { $0.upstreamConnectFailed(id, now: self.now, into: &$1) }
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to id: ExchangeID, reused: Bool) {
        guard machine.awaitsUpstream(id), upstream == nil else {
            // The exchange it was for is gone; the connection is clean.
            connector.release(connection, reusable: true)
            return
        }
        upstream = connection
        connection.handler.receiver = self
        drive { $0.upstreamAttached(id, reused: reused, now: self.now, into: &$1) }
    }

    private func releaseUpstream(reusable: Bool) {
        guard let upstream else { return }
        self.upstream = nil
        upstream.handler.receiver = nil
        if reusable, connection.isHTTP1, kept == nil, !machine.closeAfterResponse {
            upstream.handler.setReadsAllowed(true)
            kept = upstream
        } else {
            connector.release(upstream, reusable: reusable)
        }
    }

    private func startTunnel(head: HTTPRequestHead, userID: String?, context: ChannelHandlerContext) {
        guard let upstream else {
            context.close(promise: nil)
            return
        }
        self.upstream = nil
        upstream.handler.receiver = nil
        timer?.cancel()
        timer = nil
        do {
            try WebSocketTunnel.splice(client: context.channel, upstream: upstream.channel)
            if let userID, let authenticator = runtime.authenticator {
                let check = credentialCheck(head: head, userID: userID, authenticator: authenticator)
                try context.channel.pipeline.syncOperations.addHandler(
                    TunnelCredentialWatch(interval: machine.configuration.revalidationInterval, check: check)
                )
            }
        } catch {
            runtime.logger.warning("WebSocket tunnel could not start", metadata: ["error": "\(error)"])
            upstream.channel.close(promise: nil)
            context.close(promise: nil)
        }
    }

    private func revalidate(_ id: ExchangeID, head: HTTPRequestHead, userID: String, context: ChannelHandlerContext) {
        guard let authenticator = runtime.authenticator else {
            drive { $0.credentialChecked(id, stillValid: true, now: self.now, into: &$1) }
            return
        }
        let check = credentialCheck(head: head, userID: userID, authenticator: authenticator)
        check(context.eventLoop).assumeIsolated().whenComplete { [weak self] result in
            guard let self else { return }
            let valid = (try? result.get()) ?? false
            self.drive { $0.credentialChecked(id, stillValid: valid, now: self.now, into: &$1) }
        }
    }

    /// Decides the request again, on what holds now, as ``decide(_:head:framing:context:)``
    /// did when it came: the client address (after `trusted_proxies`, not the proxy's), the
    /// credential read afresh, and the whole route decision on the current policy (role,
    /// MFA, greenlists, countries). True while it still allows the same user; a demotion, a new
    /// greenlist or an ended credential ends the exchange or tunnel. A re-check records nothing
    /// the decision already recorded (an act-as is audited once per exchange, not at every
    /// re-check).
    private func credentialCheck(
        head: HTTPRequestHead, userID: String, authenticator: any RequestAuthenticator
    ) -> @Sendable (any EventLoop) -> EventLoopFuture<Bool> {
        let peer = connection.peer
        let runtime = runtime
        return { eventLoop in
            let snapshot = runtime.snapshot
            guard let client = RequestPlanner.clientAddress(of: head, peer: peer, snapshot: snapshot) else {
                return eventLoop.makeSucceededFuture(false)
            }
            let request = AuthenticationRequest(headers: head.headers, client: client, now: Date(), purpose: .recheck)
            let stillAllowed: @Sendable (Authentication) -> Bool = { authentication in
                RequestPlanner.stillAllows(head, client: client, authentication: authentication, userID: userID, snapshot: snapshot, now: Date())
            }
            switch authenticator.authenticate(request, on: eventLoop) {
            case .resolved(let authentication):
                return eventLoop.makeSucceededFuture(stillAllowed(authentication))
            case .pending(let future):
                return future.map(stillAllowed).hop(to: eventLoop)
            }
        }
    }

    private func log(_ record: ExchangeRecord) {
        if record.log.reason == ReasonCode.ipNotGreenlisted.rawValue, record.log.route == Route.controlPlane.name {
            // Only the identity provider's SCIM and back-channel logout calls are refused by
            // address on the control plane's route: provisioning or logouts are being lost.
            runtime.logger.error("an identity provider call was refused by its endpoint's allowlist", metadata: [
                "client": "\(record.log.client)", "path": "\(record.log.path)",
            ])
        }
        let nanoseconds = record.duration.nanoseconds
        runtime.metrics.recordRequest(route: record.log.route, decision: record.log.outcome, reason: record.log.reason,
                                      durationNanoseconds: nanoseconds)
        runtime.accessLog.record(AccessLog.Entry(
            client: connection.text(of: record.log.client),
            method: record.log.method,
            host: record.log.host,
            path: record.log.path,
            route: record.log.route,
            status: Int(record.status),
            decision: record.log.outcome,
            reason: record.log.reason,
            user: record.log.user,
            durationMicroseconds: nanoseconds / 1_000,
            bytesIn: record.bytesIn,
            bytesOut: record.bytesOut,
            httpVersion: connection.httpVersion
        ))
    }

    // MARK: the timer

    /// One timer serves every deadline. A later deadline leaves a pending timer alone: it fires
    /// early, finds nothing due, and re-arms for what is due next, so a busy connection does not
    /// create and cancel timers per request.
    private func armTimer() {
        guard let context, let deadline = machine.nextDeadline else { return }
        if timer != nil, let pending = timerAt, pending <= deadline { return }
        timer?.cancel()
        timerAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerAt = nil
            self.batchNow = nil
            self.drive { $0.timerFired(now: self.now, into: &$1) }
        }
    }
}

// MARK: upstream → client

extension ProxyHandler: UpstreamResponseReceiver {
    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        beginBatch()
        switch part {
        case .head(let head):
            drive { $0.upstreamResponseHeadReceived(head, now: self.now, into: &$1) }
        case .body(let buffer):
            drive { $0.upstreamResponseBodyReceived(buffer, now: self.now, into: &$1) }
        case .end:
            drive { $0.upstreamResponseEndReceived(now: self.now, into: &$1) }
        }
    }

    func upstreamDidReadComplete() {
        drive { $0.upstreamReadComplete(into: &$1) }
        batchNow = nil
    }

    func upstreamWritabilityDidChange(isWritable: Bool) {
        drive { $0.upstreamWritabilityChanged(isWritable: isWritable, now: self.now, into: &$1) }
    }

    func upstreamDidClose(error: (any Error)?) {
        drive { $0.upstreamClosed(now: self.now, into: &$1) }
    }
}
