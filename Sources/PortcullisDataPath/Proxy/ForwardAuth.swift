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
///   `X-Original-Method` and the one header `forward_auth.original_url_header` names:
///   `X-Original-URI` plus `Host` (the default), or `X-Original-URL`.
/// - `/_portcullis/forward-auth`, for Traefik `ForwardAuth` and Caddy `forward_auth`:
///   `X-Forwarded-Method`, `-Host`, `-Uri` (and `-Proto`).
///
/// Each endpoint reads only its own source: a request that also carries another header naming
/// the original request is refused (400), since that header can only be the client's.
///
/// The client is the one `X-Forwarded-For` (walked through `server.trusted_proxies`) or
/// `X-Real-IP` names. These headers are believed only from a trusted proxy: a forward-auth
/// request from anywhere else is refused.
///
/// Answers: 200 with the identity headers and the assertion; sign-in needed: 401, or for
/// browsers asking `/forward-auth` a 302 to the login with the original path to return to
/// (nginx turns 401 into the login redirect itself, see the README); refused: 403 with the
/// reason code. A credential the store could not check in time (`session_unverifiable`) is a
/// 503 to API clients of `/forward-auth` (Traefik and Caddy pass it on) and a 401 to nginx.
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
        let utf8 = head.uri.utf8
        // Both start with the reserved prefix; most requests are gone at the first bytes.
        guard utf8.count >= 17, utf8.starts(with: "/_portcullis/".utf8) else { return nil }
        let end = utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        let path = head.uri.utf8[..<end]
        if path.elementsEqual("/_portcullis/auth".utf8) { return .authRequest }
        if path.elementsEqual("/_portcullis/forward-auth".utf8) { return .forwardAuth }
        return nil
    }

    /// Why a forward-auth request does not say, unambiguously, which request to decide.
    struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
        var description: String
    }

    /// The headers that name the original request, in either endpoint's family, lower-case.
    /// Each endpoint reads its own members and refuses a request that carries any other: the
    /// proxy in front passes the client's headers on (nginx's `auth_request` does), so a member
    /// it was not configured to set can only be the client's.
    static let sourceHeaders = [
        "x-original-url", "x-original-uri", "x-original-method", "x-rewrite-url",
        "x-forwarded-uri", "x-forwarded-host", "x-forwarded-method",
    ]

    /// The members of ``sourceHeaders`` an endpoint reads, lower-case.
    static func acceptedSources(_ endpoint: Endpoint, _ settings: ForwardAuthConfiguration) -> [String] {
        switch endpoint {
        case .authRequest: [settings.originalURLHeader.rawValue.lowercased(), "x-original-method"]
        case .forwardAuth: ["x-forwarded-uri", "x-forwarded-host", "x-forwarded-method"]
        }
    }

    /// What the proxy says the original request was, read only from the source configured for
    /// the endpoint (`forward_auth.original_url_header` for `/auth`, `X-Forwarded-*` for
    /// `/forward-auth`), or why it cannot be believed: a missing or repeated source header, a
    /// header of the other sources (or a `_` spelling of one), a missing `Host`, or an
    /// `X-Original-URL` whose host is not the `Host`, or a target whose path is not plain
    /// (``isPlainPath(_:)``).
    static func originalRequest(
        of head: HTTPRequestHead, endpoint: Endpoint, settings: ForwardAuthConfiguration
    ) -> Result<OriginalRequest, Problem> {
        originalRequestNamed(of: head, endpoint: endpoint, settings: settings).flatMap { original in
            guard isPlainPath(original.target) else {
                return .failure(Problem(description: "the original path has dot segments, encoded or back slashes or a #, "
                    + "which the app behind the proxy may read as another path than the one decided"))
            }
            return .success(original)
        }
    }

    /// In forward-auth mode the proxy in front, not Portcullis, sends the request on, with its
    /// raw path: the decision holds only if that path reads the same before and after
    /// normalisation (``NormalizedPath``). Each raw segment is percent-decoded as the decision
    /// decodes it, and the target is refused rather than decided when a decoded segment holds a
    /// `/` or `\` (`%2F`, `%5C`, a raw `\`) or is `.` or `..` once cut at `;` (`..`, `%2e%2e`,
    /// `..;x`, `..%3b`): `/admin/..%3b/public/x` must not be allowed as `/public/x` while the app
    /// serves its `/admin/…` page. A `#` is refused too: a request-target never holds one
    /// (RFC 9112 §3.2), and the proxy forwards what follows it. Other `;params` and empty
    /// segments stay: servers read those as we do.
    static func isPlainPath(_ target: String) -> Bool {
        let bytes = Array(target.utf8)
        if bytes.contains(UInt8(ascii: "#")) { return false }
        let path = bytes.prefix { $0 != UInt8(ascii: "?") }
        for segment in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let decoded = percentDecoded(segment) else { return false }
            if decoded.contains(UInt8(ascii: "/")) || decoded.contains(UInt8(ascii: "\\")) { return false }
            let bare = decoded.prefix { $0 != UInt8(ascii: ";") }
            if bare.elementsEqual([UInt8(ascii: ".")]) || bare.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return false }
        }
        return true
    }

    /// `segment` with each `%XX` decoded once; `nil` for a `%` not followed by two hex digits.
    private static func percentDecoded(_ segment: ArraySlice<UInt8>) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(segment.count)
        var index = segment.startIndex
        while index < segment.endIndex {
            let byte = segment[index]
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                index += 1
                continue
            }
            guard index + 2 < segment.endIndex, let high = RequestTarget.hexValue(segment[index + 1]), let low = RequestTarget.hexValue(segment[index + 2]) else { return nil }
            decoded.append(high << 4 | low)
            index += 3
        }
        return decoded
    }

    /// Whether the proxy in front would hand the client's `name` to the app, where the app may
    /// read it as an identity (`Remote-User`, `X-Portcullis-User` in any spelling, …) or as
    /// another path, method or host (`X-HTTP-Method-Override`, `X-Forwarded-Prefix`, …): in proxy
    /// mode the gateway strips those (``HeaderRules``), but here the proxy sends the request on
    /// and passes the client's headers to this endpoint too (nginx's `auth_request` and Caddy's
    /// `forward_auth` both do). Refusing the question refuses the request, whatever spellings
    /// the proxy's configuration clears. `X-Portcullis-Act-As`, spelt so, is the caller's own
    /// request to act as someone (checked like any request's).
    static func reachesTheAppUnchecked(_ name: String) -> Bool {
        switch HeaderRules.disposition(ofRequestHeader: name) {
        case .identity:
            return !RequestFraming.isExactly(name, "x-portcullis-act-as")
        case .override:
            return true
        case .forwarding:
            return HeaderRules.name(name, equals: "x-forwarded-prefix")
        case .forward, .hopByHop:
            return false
        }
    }

    private static func originalRequestNamed(
        of head: HTTPRequestHead, endpoint: Endpoint, settings: ForwardAuthConfiguration
    ) -> Result<OriginalRequest, Problem> {
        let headers = head.headers
        let accepted = acceptedSources(endpoint, settings)
        for (name, _) in headers {
            if let member = sourceHeaders.first(where: { HeaderRules.name(name, equals: $0) }) {
                if !accepted.contains(member) || name.utf8.contains(UInt8(ascii: "_")) {
                    return .failure(Problem(description: "\(name) is not what this endpoint reads (it reads \(accepted.joined(separator: ", "))): "
                        + "the proxy in front must clear it (see conf/forward-auth/)"))
                }
                continue
            }
            if reachesTheAppUnchecked(name) {
                return .failure(Problem(description: "\(name) is a header the app could read as who the caller is or as another request, "
                    + "and the proxy in front passes the client's copy to the app"))
            }
        }
        func single(_ name: String) -> Result<String, Problem> {
            let values = headers[name]
            switch values.count {
            case 1: return .success(values[0])
            case 0: return .failure(Problem(description: "\(name) is missing"))
            default: return .failure(Problem(description: "\(name) appears more than once"))
            }
        }
        func hostName(_ text: String, from name: String) -> Result<HostName, Problem> {
            guard let host = HostName(text) else { return .failure(Problem(description: "\(name) is not a host")) }
            return .success(host)
        }
        // The request's own Host: exactly one (HTTP/1.1 requires it; HTTP/2 has :authority).
        let ownHost: String
        switch single("host") {
        case .success(let value): ownHost = value
        case .failure(let problem): return .failure(problem)
        }
        do throws(Problem) {
            switch endpoint {
            case .authRequest:
                let method = try single("x-original-method").get()
                guard isToken(method) else { return .failure(Problem(description: "X-Original-Method is not a method")) }
                switch settings.originalURLHeader {
                case .originalURI:
                    let target = try single("x-original-uri").get()
                    guard target.hasPrefix("/") else { return .failure(Problem(description: "X-Original-URI is not a path")) }
                    _ = try hostName(ownHost, from: "Host").get()
                    return .success(OriginalRequest(method: method, host: ownHost, target: target))
                case .originalURL:
                    let url = try single("x-original-url").get()
                    guard let (host, target) = splitAbsolute(url) else {
                        return .failure(Problem(description: "X-Original-URL is not an absolute http(s) URL"))
                    }
                    let named = try hostName(host, from: "X-Original-URL's host").get()
                    guard try hostName(ownHost, from: "Host").get() == named else {
                        return .failure(Problem(description: "X-Original-URL names another host than Host"))
                    }
                    return .success(OriginalRequest(method: method, host: host, target: target))
                }
            case .forwardAuth:
                let method = try single("x-forwarded-method").get()
                guard isToken(method) else { return .failure(Problem(description: "X-Forwarded-Method is not a method")) }
                let target = try single("x-forwarded-uri").get()
                guard target.hasPrefix("/") else { return .failure(Problem(description: "X-Forwarded-Uri is not a path")) }
                let host = try single("x-forwarded-host").get()
                _ = try hostName(host, from: "X-Forwarded-Host").get()
                let protos = headers["x-forwarded-proto"]
                guard protos.count <= 1, protos.allSatisfy({ $0 == "https" || $0 == "http" }) else {
                    return .failure(Problem(description: "X-Forwarded-Proto is not one of http, https"))
                }
                return .success(OriginalRequest(method: method, host: host, target: target))
            }
        } catch {
            return .failure(error)
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
        let original: OriginalRequest
        switch originalRequest(of: head, endpoint: endpoint, settings: snapshot.configuration.forwardAuth) {
        case .success(let request):
            original = request
        case .failure(let problem):
            log.outcome = AccessDecision.Outcome.badRequest.rawValue
            log.reason = "bad_forward_auth_request"
            return RequestPlanner.refusal(
                head, kind: .badRequest, reason: log.reason,
                message: "the proxy did not say unambiguously which request to decide: \(problem)", snapshot: snapshot, log: log
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
                snapshot: snapshot, log: log, extraHeaders: clearCookie.map { [("Set-Cookie", $0)] } ?? [], allowLoginRedirect: false,
                unverifiableIsUnavailable: endpoint == .forwardAuth
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
