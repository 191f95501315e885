import NIOHTTP1
import PortcullisCore

/// The response head the client receives: the upstream's, without hop-by-hop headers or
/// anything its `Connection` header lists, without any `Set-Cookie` for one of the gateway's own
/// cookies (``SetCookieHeader``), with `Strict-Transport-Security` set and any cookie the
/// gateway must clear. `Content-Length` is never removed by a `Connection` header: it
/// describes the body the upstream's decoder delimited; without it the client's encoder
/// frames the body itself (chunked on HTTP/1.1, DATA frames on HTTP/2).
enum UpstreamResponseBuilder {
    struct Built {
        var head: HTTPResponseHead
        /// A `Set-Cookie` for one of the gateway's cookies was dropped.
        var droppedOwnCookie: Bool
    }

    /// - Parameter ownCookieNames: the gateway's cookie names, which the upstream may not set
    ///   (empty for the control plane, which sets them).
    static func build(
        _ upstream: HTTPResponseHead, hsts: String?, isUpgrade: Bool, extraHeaders: [(String, String)] = [], ownCookieNames: [String] = []
    ) -> Built {
        var connectionListed: [Substring] = []
        var needsRewrite = false
        var droppedOwnCookie = false
        /// A `Connection` header that lists only `keep-alive` or `close` (what most upstreams
        /// send, nginx among them) is the only thing to remove: removed in place.
        var connectionOnly = true
        for (name, value) in upstream.headers {
            guard let first = name.utf8.first else { continue }
            switch first | 0x20 {
            case UInt8(ascii: "c"):
                if HeaderRules.name(name, equals: "connection") {
                    needsRewrite = true
                    HeaderTokens.forEach(value) { token in
                        if !HeaderTokens.equalIgnoringCase(token, "keep-alive"), !HeaderTokens.equalIgnoringCase(token, "close") {
                            connectionOnly = false
                        }
                        connectionListed.append(token)
                        return true
                    }
                    if !RequestFraming.isExactly(name, "connection") { connectionOnly = false }
                } else if HeaderRules.name(name, equals: "close") {
                    connectionOnly = false
                } else if UpstreamRequestBuilder.isFramingLookalike(name), !RequestFraming.isExactly(name, "content-length") {
                    needsRewrite = true
                    connectionOnly = false
                }
            case UInt8(ascii: "k"), UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "u"):
                if HeaderRules.isHopByHopResponseHeader(name) || UpstreamRequestBuilder.isFramingLookalike(name) {
                    needsRewrite = true
                    connectionOnly = false
                }
            case UInt8(ascii: "s"):
                if hsts != nil, HeaderRules.name(name, equals: "strict-transport-security") {
                    needsRewrite = true
                    connectionOnly = false
                } else if !ownCookieNames.isEmpty, RequestFraming.isExactly(name, "set-cookie"),
                          SetCookieHeader.setsAny(of: ownCookieNames, value) {
                    needsRewrite = true
                    connectionOnly = false
                    droppedOwnCookie = true
                }
            default:
                continue
            }
        }
        var head = upstream
        if head.version != .http1_1 { head.version = .http1_1 }
        if needsRewrite, connectionOnly {
            head.headers.remove(name: "connection")
        } else if needsRewrite {
            var headers = HTTPHeaders()
            headers.reserveCapacity(upstream.headers.count + 1)
            for (name, value) in upstream.headers {
                let isLength = RequestFraming.isExactly(name, "content-length")
                if !isLength, UpstreamRequestBuilder.isFramingLookalike(name) { continue }
                if HeaderRules.isHopByHopResponseHeader(name) { continue }
                if hsts != nil, HeaderRules.name(name, equals: "strict-transport-security") { continue }
                if droppedOwnCookie, RequestFraming.isExactly(name, "set-cookie"), SetCookieHeader.setsAny(of: ownCookieNames, value) {
                    continue
                }
                if !isLength, !connectionListed.isEmpty,
                   connectionListed.contains(where: { HeaderRules.name(name, equals: $0.lowercased()) }) {
                    continue
                }
                headers.add(name: name, value: value)
            }
            head.headers = headers
        }
        if let hsts { head.headers.add(name: "Strict-Transport-Security", value: hsts) }
        for (name, value) in extraHeaders { head.headers.add(name: name, value: value) }
        if isUpgrade {
            head.headers.add(name: "Connection", value: "Upgrade")
            head.headers.add(name: "Upgrade", value: "websocket")
        }
        return Built(head: head, droppedOwnCookie: droppedOwnCookie)
    }

    /// Whether the upstream delimited this response so that the connection can carry another
    /// exchange: a length, chunked, or a status or method that has no body. A response that
    /// ends when the connection closes leaves nothing to reuse.
    static func hasDefiniteFraming(_ head: HTTPResponseHead, requestMethod: HTTPMethod) -> Bool {
        if requestMethod == .HEAD { return true }
        switch head.status.code {
        case 100..<200, 204, 304: return true
        default: break
        }
        for (name, value) in head.headers {
            if RequestFraming.isExactly(name, "content-length") { return true }
            if RequestFraming.isExactly(name, "transfer-encoding"), HeaderTokens.last(value).map({ HeaderTokens.equalIgnoringCase($0, "chunked") }) == true {
                return true
            }
        }
        return false
    }
}
