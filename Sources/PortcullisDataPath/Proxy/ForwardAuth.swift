import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// Forward-auth mode (SPEC §5): a proxy already in front of an app asks "may this request
/// pass?" and copies the identity headers of a yes upstream. The same decision as the proxy
/// mode: the caller is resolved by the same authenticators from the forwarded request's cookie
/// or `Authorization`, `AccessPolicy.evaluate` decides on the original method, host and path,
/// and the exchange is logged and counted like any other.
///
/// - `/_portcullis/auth`, for nginx `auth_request`: the original request from
///   `X-Original-Method` (else the request's own method), `X-Original-URL` or
///   `X-Original-URI` plus `Host`.
/// - `/_portcullis/forward-auth`, for Traefik `ForwardAuth` and Caddy `forward_auth`:
///   `X-Forwarded-Method`, `-Proto`, `-Host`, `-Uri`.
///
/// The client is the one `X-Forwarded-For` (walked through `server.trusted_proxies`) or
/// `X-Real-IP` names. These headers are believed only from a trusted proxy: a forward-auth
/// request from anywhere else is refused.
///
/// Answers: 200 with the identity headers and the assertion; sign-in needed: 401, or for
/// browsers asking `/forward-auth` a 302 to the login with the original path to return to
/// (nginx turns 401 into the login redirect itself, see the README); refused: 403 with the
/// reason code.
enum ForwardAuth {
    enum Endpoint: String, Hashable, Sendable {
        /// nginx `auth_request`.
        case authRequest = "auth"
        /// Traefik `ForwardAuth`, Caddy `forward_auth`.
        case forwardAuth = "forward-auth"
    }

    /// The request a proxy asks about.
    struct OriginalRequest: Hashable, Sendable {
        var method: String
        var host: String?
        /// Origin-form: `/path?query`.
        var target: String
    }

    /// The forward-auth endpoint a request is for, if any: exactly `/_portcullis/auth` or
    /// `/_portcullis/forward-auth` (any query ignored).
    static func endpoint(of head: HTTPRequestHead) -> Endpoint? {
        let path = head.uri.prefix { $0 != "?" && $0 != "#" }
        switch path {
        case "/_portcullis/auth": return .authRequest
        case "/_portcullis/forward-auth": return .forwardAuth
        default: return nil
        }
    }

    /// What the proxy says the original request was, or why it cannot be read.
    static func originalRequest(of head: HTTPRequestHead, endpoint: Endpoint) -> OriginalRequest? {
        let headers = head.headers
        func single(_ name: String) -> String? {
            let values = headers[name]
            return values.count == 1 ? values[0] : nil
        }
        switch endpoint {
        case .authRequest:
            let method = headers.contains(name: "x-original-method") ? single("x-original-method") : head.method.rawValue
            guard let method, isToken(method) else { return nil }
            if headers.contains(name: "x-original-url") {
                guard let url = single("x-original-url"), let (host, target) = splitAbsolute(url) else { return nil }
                return OriginalRequest(method: method, host: host, target: target)
            }
            guard let target = single("x-original-uri"), target.hasPrefix("/") else { return nil }
            return OriginalRequest(method: method, host: single("host"), target: target)
        case .forwardAuth:
            let method = headers.contains(name: "x-forwarded-method") ? single("x-forwarded-method") : "GET"
            guard let method, isToken(method) else { return nil }
            let target = headers.contains(name: "x-forwarded-uri") ? single("x-forwarded-uri") : "/"
            guard let target, target.hasPrefix("/") else { return nil }
            let host = headers.contains(name: "x-forwarded-host") ? single("x-forwarded-host") : single("host")
            guard let host else { return nil }
            if let proto = headers.first(name: "x-forwarded-proto"), proto != "https", proto != "http" { return nil }
            return OriginalRequest(method: method, host: host, target: target)
        }
    }

    /// `https://app.example.com:8443/path?q` → (`app.example.com:8443`, `/path?q`).
    static func splitAbsolute(_ url: String) -> (String, String)? {
        let rest: Substring
        if url.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        var target = String(rest.dropFirst(host.count))
        if target.isEmpty || target.first == "?" { target = "/" + target }
        return (String(host), target)
    }

    private static func isToken(_ method: String) -> Bool {
        !method.isEmpty && method.utf8.count <= 32 && method.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// The client a trusted proxy names: `X-Forwarded-For` walked through the trusted proxies,
    /// else `X-Real-IP`, else the proxy itself. `nil` when a header is malformed.
    static func client(of head: HTTPRequestHead, peer: IPAddress, snapshot: GatewaySnapshot) -> IPAddress? {
        guard snapshot.clientAddresses.isTrusted(peer) else { return peer }
        if head.headers.contains(name: "x-forwarded-for") {
            return RequestPlanner.clientAddress(of: head, peer: peer, snapshot: snapshot)
        }
        if let realIP = head.headers.first(name: "x-real-ip") {
            return try? IPAddress(parsing: realIP.trimmingCharacters(in: .whitespaces))
        }
        return peer
    }

    // MARK: the answer

    static func plan(_ input: RequestPlanner.Input, endpoint: Endpoint) -> ExchangePlan {
        let head = input.head
        let snapshot = input.snapshot
        var log = ExchangeLog.undecided(head, client: input.client, reason: "-")
        log.route = "forward-auth"
        guard snapshot.clientAddresses.isTrusted(input.peer) else {
            log.outcome = AccessDecision.Outcome.forbidden.rawValue
            log.reason = "forward_auth_untrusted"
            return RequestPlanner.refusal(
                head, kind: .forbidden, reason: log.reason,
                message: "forward-auth answers only the proxies named in server.trusted_proxies", snapshot: snapshot, log: log
            )
        }
        guard let original = originalRequest(of: head, endpoint: endpoint) else {
            log.reason = "bad_forward_auth_request"
            return RequestPlanner.refusal(
                head, kind: .badRequest, reason: log.reason,
                message: "the proxy did not say which request to decide (X-Original-URI or X-Forwarded-Uri)", snapshot: snapshot, log: log
            )
        }
        let identity = input.authentication.identity
        let decision = snapshot.policy.evaluate(
            AccessRequest(method: original.method, host: original.host, target: original.target, client: input.client, identity: identity),
            now: input.now
        )
        log = ExchangeLog(
            client: input.client, method: original.method, host: original.host,
            path: decision.target?.path.description ?? RequestPlanner.pathForLog(original.target),
            route: decision.route?.name ?? "-", outcome: decision.outcome.rawValue, reason: decision.reason.rawValue,
            user: decision.user?.email
        )
        let clearCookie = RequestPlanner.sessionCookieToClear(head.headers, identity: identity, now: input.now)
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Portcullis-Reason", value: decision.reason.rawValue)
        if let clearCookie { headers.add(name: "Set-Cookie", value: clearCookie) }

        if decision.isAllowed, let route = decision.route, route.target != .controlPlane {
            if decision.user != nil {
                for (name, value) in input.authentication.upstreamHeaders(route) { headers.add(name: name, value: value) }
            }
            headers.add(name: "Content-Length", value: "0")
            return .respond(GatewayResponse(head: HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), body: ByteBuffer(), log: log))
        }
        if decision.outcome == .unauthenticated {
            let browser = RefusalResponse.prefersHTML(head.headers)
            if endpoint == .forwardAuth, browser {
                let location = LoginRedirect.location(returningTo: original.target, reason: decision.reason.rawValue)
                headers.add(name: "Location", value: location)
                headers.add(name: "Content-Length", value: "0")
                return .respond(GatewayResponse(head: HTTPResponseHead(version: .http1_1, status: .found, headers: headers), body: ByteBuffer(), log: log))
            }
            return RequestPlanner.refusal(
                head, kind: .unauthenticated, reason: decision.reason.rawValue, message: decision.reason.explanation,
                snapshot: snapshot, log: log, extraHeaders: clearCookie.map { [("Set-Cookie", $0)] } ?? [], allowLoginRedirect: false
            )
        }
        // Every other refusal is a 403 to the proxy: nginx treats any other status as an error.
        var message = decision.reason.explanation
        if case .permission(let permission) = decision.requirement { message += " (\(permission.rawValue))" }
        if case .role(let role) = decision.requirement { message += " (\(role))" }
        if decision.route?.target == .controlPlane { message = "the gateway's own endpoints are not decided by forward-auth" }
        return RequestPlanner.refusal(head, kind: .forbidden, reason: decision.reason.rawValue, message: message, snapshot: snapshot, log: log)
    }
}
