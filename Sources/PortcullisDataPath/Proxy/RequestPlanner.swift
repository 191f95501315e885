import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// Turns a request head and its caller into an ``ExchangePlan``: `AccessPolicy.evaluate`
/// decides, then either the refusal in the client's language or exactly what goes upstream.
/// Pure: everything it reads comes in as a parameter.
enum RequestPlanner {
    struct Input {
        var head: HTTPRequestHead
        var framing: RequestFraming
        /// The client address (the TCP peer, or from `X-Forwarded-For` via trusted proxies).
        var client: IPAddress
        /// The TCP peer.
        var peer: IPAddress
        /// ``client`` and ``peer`` as text (made once per connection).
        var clientText: String
        var peerText: String
        var authentication: Authentication
        var snapshot: GatewaySnapshot
        /// The control plane's loopback listener, once it runs.
        var controlPlane: Upstream?
        var controlPlaneToken: String
        var now: Date
    }

    /// The client address of a request: the TCP peer, unless the peer is a trusted proxy, then
    /// from `X-Forwarded-For` walked from the right. `nil` for a malformed `X-Forwarded-For`
    /// from a trusted proxy.
    static func clientAddress(of head: HTTPRequestHead, peer: IPAddress, snapshot: GatewaySnapshot) -> IPAddress? {
        guard snapshot.clientAddresses.hasTrustedProxies else { return peer }
        switch snapshot.clientAddresses.resolve(peer: peer, forwardedFor: head.headers[canonicalForm: "x-forwarded-for"].map(String.init)) {
        case .address(let address): return address
        case .malformed: return nil
        }
    }

    /// The refusal for a malformed `X-Forwarded-For` from a trusted proxy.
    static func badForwardedFor(_ head: HTTPRequestHead, peer: IPAddress, snapshot: GatewaySnapshot) -> ExchangePlan {
        var log = ExchangeLog.undecided(head, client: peer, reason: ReasonCode.badForwardedFor.rawValue)
        log.outcome = AccessDecision.Outcome.badRequest.rawValue
        return refusal(head, kind: .badRequest, reason: ReasonCode.badForwardedFor.rawValue,
                       message: ReasonCode.badForwardedFor.explanation, snapshot: snapshot, log: log)
    }

    static func plan(_ input: Input) -> ExchangePlan {
        if let endpoint = ForwardAuth.endpoint(of: input.head) {
            return ForwardAuth.plan(input, endpoint: endpoint)
        }
        let head = input.head
        let identity = input.authentication.identity
        let host = head.headers.first(name: "host")
        let decision = input.snapshot.policy.evaluate(
            AccessRequest(method: head.method.rawValue, host: host, target: head.uri, client: input.client, identity: identity),
            now: input.now
        )
        var log = ExchangeLog(
            client: input.client,
            method: head.method.rawValue,
            host: host,
            path: decision.target?.path.description ?? pathForLog(head.uri),
            route: decision.route?.name ?? "-",
            outcome: decision.outcome.rawValue,
            reason: decision.reason.rawValue,
            user: decision.user?.email
        )
        let clearCookie = sessionCookieToClear(head.headers, identity: identity, now: input.now)
        let responseHeaders = clearCookie.map { [("Set-Cookie", $0)] } ?? []

        guard decision.isAllowed, let route = decision.route, let target = decision.target else {
            var message = decision.reason.explanation
            if case .permission(let permission) = decision.requirement { message += " (\(permission.rawValue))" }
            if case .role(let role) = decision.requirement { message += " (\(role))" }
            if let list = decision.refusingGreenlist, decision.reason == .ipNotGreenlisted {
                message += " (\(input.client) is not in \(list))"
            }
            return refusal(head, kind: RefusalResponse.Kind(decision.outcome), reason: decision.reason.rawValue, message: message,
                           snapshot: input.snapshot, log: log, extraHeaders: responseHeaders)
        }
        func refuse(_ kind: RefusalResponse.Kind, _ reason: String, _ message: String) -> ExchangePlan {
            log.outcome = kind.rawValue
            log.reason = reason
            return refusal(head, kind: kind, reason: reason, message: message, snapshot: input.snapshot, log: log)
        }
        if head.method == .CONNECT || HeaderTokens.equalIgnoringCase(head.method.rawValue[...], "CONNECT") {
            return refuse(.methodNotAllowed, ReasonCode.methodNotAllowed.rawValue, "CONNECT is not proxied")
        }
        if input.framing != .none, Self.refusesBody(head.method) {
            // A body on GET or HEAD has no meaning (RFC 9110 §9.3.1), and an upstream that does
            // not read it would take it for the next request: refused rather than sent on.
            return refuse(.badRequest, "body_not_allowed", "this method does not take a request body")
        }
        let upstream: Upstream
        switch route.target {
        case .upstream(let configured):
            upstream = configured
        case .controlPlane:
            guard let controlPlane = input.controlPlane else {
                return refuse(.notFound, ReasonCode.noRoute.rawValue, ReasonCode.noRoute.explanation)
            }
            upstream = controlPlane
        }
        let tls = upstream.scheme == .https ? input.snapshot.upstreamTLS[route.name] : nil
        if upstream.scheme == .https, tls == nil {
            return refuse(.badGateway, "upstream_unavailable", "no TLS settings for this upstream")
        }
        // An upgrade only with a key to answer: without one, a plain GET (its Upgrade and
        // Connection headers not forwarded), so that any 101 to it is refused as unasked.
        let webSocketKey = isWebSocketUpgrade(head) ? WebSocketHandshake.key(head.headers) : nil
        let isUpgrade = webSocketKey != nil
        if isUpgrade, input.framing != .none {
            return refuse(.badRequest, "body_not_allowed", "a WebSocket upgrade does not take a request body")
        }

        // Only a user the decision vouches for reaches the upstream: on a public route, a
        // revoked, expired or not-allowed credential leaves the request anonymous.
        var identityHeaders = decision.user != nil ? input.authentication.upstreamHeaders(route) : []
        let isControlPlane = route.target == .controlPlane
        if isControlPlane {
            identityHeaders.append(contentsOf: ControlPlaneHandOff.headers(
                token: input.controlPlaneToken, client: input.client, identity: identity, now: input.now
            ))
        }
        let snapshot = input.snapshot
        let upstreamHead = UpstreamRequestBuilder.build(UpstreamRequestBuilder.Input(
            head: head,
            framing: input.framing,
            target: target,
            upstream: upstream,
            client: input.clientText,
            peer: input.peerText,
            peerIsTrustedProxy: snapshot.clientAddresses.hasTrustedProxies && snapshot.clientAddresses.isTrusted(input.peer),
            forwardedHost: decision.host.map { UpstreamRequestBuilder.forwardedHost(matched: $0, requested: host) },
            isWebSocketUpgrade: isUpgrade,
            identityHeaders: identityHeaders,
            ownCookieNames: isControlPlane ? [] : snapshot.ownCookieNames,
            stripAuthorization: input.authentication.consumedAuthorization && !isControlPlane
        ))
        return .forward(ForwardPlan(
            upstreamHead: upstreamHead,
            target: UpstreamTarget(upstream: upstream, tls: tls, connectTimeout: TimeAmount(route.timeouts.connect), routeName: route.name),
            responseTimeout: TimeAmount(route.timeouts.response),
            webSocketAccept: webSocketKey.map(WebSocketHandshake.accept(forKey:)),
            responseHeaders: isControlPlane ? [] : responseHeaders,
            ownCookieNames: isControlPlane ? [] : snapshot.ownCookieNames,
            identityUserID: isControlPlane ? nil : decision.user?.userID,
            log: log
        ))
    }

    /// Whether the decision that let an exchange of `userID` through still allows it: the
    /// credential still names that user and is valid, and the route decision on `snapshot`'s
    /// policy for this client still allows them (re-checks of long responses and tunnels).
    static func stillAllows(
        _ head: HTTPRequestHead, client: IPAddress, authentication: Authentication, userID: String, snapshot: GatewaySnapshot, now: Date
    ) -> Bool {
        guard case .user(let user) = authentication.identity, user.userID == userID, user.isValid(at: now) else { return false }
        let decision = snapshot.policy.evaluate(
            AccessRequest(
                method: head.method.rawValue, host: head.headers.first(name: "host"), target: head.uri, client: client,
                identity: authentication.identity
            ),
            now: now
        )
        return decision.isAllowed && decision.user?.userID == userID
    }

    /// - Parameters:
    ///   - allowLoginRedirect: a browser that must sign in is sent to the login page (a 302);
    ///     without it, it gets the 401 page.
    ///   - unverifiableIsUnavailable: a credential the store could not check in time
    ///     (`session_unverifiable`) is a 503 for API clients: signing in again would not help,
    ///     trying again shortly may. Browsers are still sent to sign in. Off for nginx's
    ///     `auth_request`, which takes any status but 401 and 403 for an error of its own.
    static func refusal(
        _ head: HTTPRequestHead, kind: RefusalResponse.Kind, reason: String, message: String, snapshot: GatewaySnapshot,
        log: ExchangeLog, extraHeaders: [(String, String)] = [], allowLoginRedirect: Bool = true, unverifiableIsUnavailable: Bool = true
    ) -> ExchangePlan {
        let method = head.method
        let html = RefusalResponse.prefersHTML(head.headers) && (method == .GET || method == .HEAD)
        var kind = kind
        if kind == .unauthenticated, !html, unverifiableIsUnavailable, reason == ReasonCode.sessionUnverifiable.rawValue {
            kind = .unavailable
        }
        let login = kind == .unauthenticated && allowLoginRedirect ? LoginRedirect.location(returningTo: head.uri, reason: reason) : nil
        var (response, body) = RefusalResponse.make(
            kind: kind, reason: reason, message: message, html: html, loginLocation: login,
            hsts: snapshot.hsts, allocator: ByteBufferAllocator()
        )
        for (name, value) in extraHeaders { response.headers.add(name: name, value: value) }
        return .respond(GatewayResponse(head: response, body: body, log: log, closesConnection: kind == .badRequest || method == .CONNECT))
    }

    /// A session cookie that no longer counts (revoked, expired, unknown, its user deactivated)
    /// is cleared in the response, so the browser stops sending it.
    static func sessionCookieToClear(_ headers: HTTPHeaders, identity: RequestIdentity, now: Date) -> String? {
        switch identity {
        case .rejected(let reason):
            switch reason {
            case .sessionExpired, .sessionRevoked, .userDeactivated: break
            default: return nil
            }
        case .user(let user):
            guard user.method == .oidc, !user.isValid(at: now) else { return nil }
        case .anonymous:
            return nil
        }
        guard headers.contains(name: "cookie"), CookieText.value(of: SessionCookie.name, in: headers) != nil else { return nil }
        return CookieText.clear(SessionCookie.name)
    }

    /// `GET` with `Connection: upgrade` and `Upgrade: websocket`, over HTTP/1.1.
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .GET, head.version == .http1_1 else { return false }
        var upgrade = false
        var connection = false
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 7 where !upgrade && RequestFraming.isExactly(name, "upgrade"):
                upgrade = HeaderTokens.contains(value, token: "websocket")
            case 10 where !connection && RequestFraming.isExactly(name, "connection"):
                connection = HeaderTokens.contains(value, token: "upgrade")
            default:
                continue
            }
        }
        return upgrade && connection
    }

    /// Methods whose requests must not carry a body.
    static func refusesBody(_ method: HTTPMethod) -> Bool {
        method == .GET || method == .HEAD || method == .TRACE
    }

    /// Whether a request carries anything an authenticator reads.
    static func carriesCredentials(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "cookie") || headers.contains(name: "authorization")
    }

    /// The raw path without its query (which may carry tokens), bounded.
    static func pathForLog(_ uri: String) -> String {
        let utf8 = uri.utf8
        let end = utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        if end == utf8.endIndex, utf8.count <= 256 { return uri }
        let path = uri[..<end]
        return path.utf8.count <= 256 ? String(path) : String(path.prefix(256))
    }
}
