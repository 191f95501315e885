import NIOCore
import NIOHTTP1
import PortcullisCore

/// Builds the request head the upstream receives (SPEC §5): the normalised path, hop-by-hop
/// and client-supplied identity and forwarding headers removed, `X-Forwarded-*` set by us,
/// and the identity headers Portcullis vouches for.
enum UpstreamRequestBuilder {
    struct Input {
        var head: HTTPRequestHead
        var target: RequestTarget
        var upstream: Upstream
        var client: IPAddress
        /// The TCP peer (the hop `X-Forwarded-For` gains).
        var peer: IPAddress
        /// The TCP peer was a trusted proxy, so its `X-Forwarded-For` chain is kept.
        var peerIsTrustedProxy: Bool
        /// The host the client asked for, for `X-Forwarded-Host`.
        var originalHost: String?
        var isWebSocketUpgrade: Bool
        /// Headers Portcullis adds: `X-Portcullis-User`, …
        var identityHeaders: [(String, String)]
        /// Cookie names that are Portcullis's own and never reach the upstream.
        var ownCookieNames: [String]
        /// Drop `Authorization` (it carried a Portcullis credential).
        var stripAuthorization: Bool
    }

    static func build(_ input: Input) -> HTTPRequestHead {
        let incoming = input.head.headers
        // Names listed in Connection are hop-by-hop for this message too.
        var connectionListed: [String] = []
        for value in incoming[canonicalForm: "connection"] {
            for token in HeaderTokens.split(String(value)) {
                connectionListed.append(token.lowercased())
            }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(incoming.count + 8)
        var forwardedFor: [String] = []
        var sawContentLength = false
        var sawChunked = false
        for (name, value) in incoming {
            switch HeaderRules.disposition(ofRequestHeader: name) {
            case .forward:
                if !connectionListed.isEmpty, connectionListed.contains(where: { HeaderRules.name(name, equals: $0) }) {
                    continue
                }
                if HeaderRules.name(name, equals: "host") { continue }
                if HeaderRules.name(name, equals: "content-length") { sawContentLength = true }
                if input.stripAuthorization, HeaderRules.name(name, equals: "authorization") { continue }
                if !input.ownCookieNames.isEmpty, HeaderRules.name(name, equals: "cookie") {
                    if let kept = CookieHeader.removing(input.ownCookieNames, from: value) {
                        headers.add(name: name, value: kept)
                    }
                    continue
                }
                headers.add(name: name, value: value)
            case .forwarding:
                if input.peerIsTrustedProxy, HeaderRules.name(name, equals: "x-forwarded-for") {
                    forwardedFor.append(value)
                }
            case .hopByHop:
                if HeaderRules.name(name, equals: "transfer-encoding"), HeaderTokens.contains(value, token: "chunked") {
                    sawChunked = true
                }
            case .identity:
                continue
            }
        }
        headers.add(name: "Host", value: input.upstream.authority)
        forwardedFor.append(input.peer.description)
        headers.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", "))
        headers.add(name: "X-Forwarded-Proto", value: "https")
        if let host = input.originalHost { headers.add(name: "X-Forwarded-Host", value: host) }
        headers.add(name: "X-Real-IP", value: input.client.description)
        for (name, value) in input.identityHeaders {
            headers.add(name: name, value: value)
        }
        if input.isWebSocketUpgrade {
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: "websocket")
        } else if sawChunked, !sawContentLength {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        var head = HTTPRequestHead(version: .http1_1, method: input.head.method, uri: input.target.encoded, headers: headers)
        head.headers = headers
        return head
    }
}

/// `Cookie` header surgery: removes Portcullis's own cookies before a request goes upstream.
enum CookieHeader {
    /// The header without the named cookies, or `nil` when nothing is left.
    static func removing(_ names: [String], from value: String) -> String? {
        var kept: [Substring] = []
        for pair in value.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            let name = trimmed.prefix { $0 != "=" }
            if names.contains(where: { $0 == name }) { continue }
            kept.append(trimmed)
        }
        return kept.isEmpty ? nil : kept.joined(separator: "; ")
    }

    /// The value of a cookie, or `nil`.
    static func value(of cookieName: String, in headers: HTTPHeaders) -> Substring? {
        for value in headers[canonicalForm: "cookie"] {
            for pair in value.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == cookieName {
                    return trimmed[trimmed.index(after: equals)...]
                }
            }
        }
        return nil
    }
}
