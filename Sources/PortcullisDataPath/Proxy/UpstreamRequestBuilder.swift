import NIOCore
import NIOHTTP1
import PortcullisCore

/// Builds the request head the upstream receives (SPEC §5, RFC 9112):
/// - the normalised path, and the client's headers without hop-by-hop ones, without anything
///   listed in `Connection`, without client-supplied identity and forwarding headers;
/// - no client header that is, or merely resembles, `Content-Length` or `Transfer-Encoding`;
/// - then the headers the gateway sets: `Host`, `X-Forwarded-*`, `X-Real-IP`, the identity
///   headers, and exactly one framing, chosen from what the parser saw (``RequestFraming``).
///
/// Because the gateway's own headers are added after the client's are filtered, a `Connection`
/// header can never remove framing, `Host` or identity headers.
enum UpstreamRequestBuilder {
    struct Input {
        var head: HTTPRequestHead
        var framing: RequestFraming
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
        for (name, value) in incoming where RequestFraming.isExactly(name, "connection") {
            for token in HeaderTokens.split(value) {
                connectionListed.append(String(token.lowercased().map { $0 == "_" ? "-" : $0 }))
            }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(incoming.count + 8)
        var forwardedFor: [String] = []
        for (name, value) in incoming {
            if isFramingLookalike(name) { continue }
            switch HeaderRules.disposition(ofRequestHeader: name) {
            case .forward:
                if !connectionListed.isEmpty, connectionListed.contains(where: { HeaderRules.name(name, equals: $0) }) {
                    continue
                }
                if HeaderRules.name(name, equals: "host") || HeaderRules.name(name, equals: "expect") { continue }
                if input.stripAuthorization, HeaderRules.name(name, equals: "authorization") { continue }
                if !input.ownCookieNames.isEmpty, HeaderRules.name(name, equals: "cookie") {
                    if let kept = CookieHeader.removing(input.ownCookieNames, from: value) {
                        headers.add(name: name, value: kept)
                    }
                    continue
                }
                headers.add(name: name, value: value)
            case .forwarding:
                if input.peerIsTrustedProxy, RequestFraming.isExactly(name, "x-forwarded-for") {
                    forwardedFor.append(value)
                }
            case .hopByHop, .identity, .override:
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
        }
        switch input.framing {
        case .length(let length):
            headers.add(name: "Content-Length", value: String(length))
        case .chunked:
            headers.add(name: "Transfer-Encoding", value: "chunked")
        case .none:
            if RequestFraming.expectsBody(input.head.method) { headers.add(name: "Content-Length", value: "0") }
        }
        return HTTPRequestHead(version: .http1_1, method: input.head.method, uri: input.target.encoded, headers: headers)
    }

    /// A name that is, or normalises to, `Content-Length` or `Transfer-Encoding`: letter case,
    /// `_` for `-`, surrounding spaces and tabs.
    static func isFramingLookalike(_ name: String) -> Bool {
        var bytes = name.utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return normalizedEquals(bytes, "content-length") || normalizedEquals(bytes, "transfer-encoding")
    }

    private static func normalizedEquals(_ bytes: Substring.UTF8View.SubSequence, _ canonical: String) -> Bool {
        guard bytes.count == canonical.utf8.count else { return false }
        for (byte, expected) in zip(bytes, canonical.utf8) {
            var folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded == UInt8(ascii: "_") { folded = UInt8(ascii: "-") }
            if folded != expected { return false }
        }
        return true
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
