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
        /// The client address, as text (`X-Real-IP`).
        var client: String
        /// The TCP peer, as text: the hop `X-Forwarded-For` gains.
        var peer: String
        /// The TCP peer was a trusted proxy, so its `X-Forwarded-For` chain is kept.
        var peerIsTrustedProxy: Bool
        /// `X-Forwarded-Host`: the host the route matched (``forwardedHost(matched:requested:)``).
        var forwardedHost: String?
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
        var connectionListed: [Substring] = []
        for (name, value) in incoming where RequestFraming.isExactly(name, "connection") {
            HeaderTokens.forEach(value) { token in
                connectionListed.append(token)
                return true
            }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(incoming.count + 8)
        var forwardedFor: [String] = []   // the chain a trusted proxy sent
        for (name, value) in incoming {
            if isFramingLookalike(name) { continue }
            switch HeaderRules.disposition(ofRequestHeader: name) {
            case .forward:
                if !connectionListed.isEmpty, connectionListed.contains(where: { sameName(name, $0) }) {
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
        if forwardedFor.isEmpty {
            headers.add(name: "X-Forwarded-For", value: input.peer)
        } else {
            forwardedFor.append(input.peer)
            headers.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", "))
        }
        headers.add(name: "X-Forwarded-Proto", value: "https")
        if let host = input.forwardedHost { headers.add(name: "X-Forwarded-Host", value: host) }
        headers.add(name: "X-Real-IP", value: input.client)
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

    /// `X-Forwarded-Host`: the host the gateway matched the route on, as it matched it (lower
    /// case, without a trailing dot), with the port the request named, if any. Never a client's
    /// `X-Forwarded-Host` (dropped with the other forwarding headers), nor a `Host` spelled
    /// otherwise than the host that was matched. The request's own `Host` when it is already
    /// that (the usual case: nothing is built).
    static func forwardedHost(matched: HostName, requested: String?) -> String {
        guard let requested else { return matched.value }
        let utf8 = requested.utf8
        let hostBytes = matched.value.utf8
        var port: Substring?
        if let colon = utf8.lastIndex(of: UInt8(ascii: ":")), utf8.last != UInt8(ascii: "]"),
           utf8[utf8.index(after: colon)...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
           !utf8[utf8.index(after: colon)...].isEmpty {
            port = requested[colon...]
            if utf8[..<colon].elementsEqual(hostBytes) { return requested }
        } else if utf8.elementsEqual(hostBytes) {
            return requested
        }
        guard let port else { return matched.value }
        return matched.value + port
    }

    /// A name that is, or normalises to, `Content-Length` or `Transfer-Encoding`: letter case,
    /// `_` for `-`, surrounding spaces and tabs.
    static func isFramingLookalike(_ name: String) -> Bool {
        let utf8 = name.utf8
        // Neither name is shorter than 14 bytes: most header names are gone here.
        guard utf8.count >= 14 else { return false }
        var lower = utf8.startIndex
        var upper = utf8.endIndex
        while lower < upper, utf8[lower] == UInt8(ascii: " ") || utf8[lower] == UInt8(ascii: "\t") { lower = utf8.index(after: lower) }
        while lower < upper {
            let before = utf8.index(before: upper)
            guard utf8[before] == UInt8(ascii: " ") || utf8[before] == UInt8(ascii: "\t") else { break }
            upper = before
        }
        let trimmed = utf8[lower..<upper]
        return normalizedEquals(trimmed, "content-length") || normalizedEquals(trimmed, "transfer-encoding")
    }

    /// Two header names, compared as the upstream's CGI-style stack would: ASCII case and `_`
    /// against `-` ignored.
    static func sameName(_ name: String, _ token: Substring) -> Bool {
        guard name.utf8.count == token.utf8.count else { return false }
        var index = token.utf8.startIndex
        for byte in name.utf8 {
            if fold(byte) != fold(token.utf8[index]) { return false }
            index = token.utf8.index(after: index)
        }
        return true
    }

    private static func fold(_ byte: UInt8) -> UInt8 {
        if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
        return byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func normalizedEquals(_ bytes: Substring.UTF8View.SubSequence, _ canonical: StaticString) -> Bool {
        guard bytes.count == canonical.utf8CodeUnitCount else { return false }
        return canonical.withUTF8Buffer { expected in
            var index = 0
            for byte in bytes {
                var folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if folded == UInt8(ascii: "_") { folded = UInt8(ascii: "-") }
                if folded != expected[index] { return false }
                index += 1
            }
            return true
        }
    }
}

/// `Cookie` header surgery, byte by byte: finds Portcullis's own cookie and removes Portcullis's
/// cookies before a request goes upstream. Pairs are separated by `;` and also by `,` (how some
/// clients join two `Cookie` headers), surrounding spaces trimmed, so that the cookie the
/// gateway reads is always one it also removes.
enum CookieHeader {
    /// Calls `body` with each pair's name, its value (after `=`, `nil` without one) and its
    /// range in `value`, until it answers false.
    static func forEachPair(
        _ value: String, _ body: (_ name: Substring, _ value: Substring?, _ range: Range<String.Index>) -> Bool
    ) {
        let utf8 = value.utf8
        var pieceStart = utf8.startIndex
        var index = utf8.startIndex
        while true {
            let atEnd = index == utf8.endIndex
            if atEnd || utf8[index] == UInt8(ascii: ";") || utf8[index] == UInt8(ascii: ",") {
                var lower = pieceStart
                var upper = index
                while lower < upper, utf8[lower] == UInt8(ascii: " ") || utf8[lower] == UInt8(ascii: "\t") { lower = utf8.index(after: lower) }
                while lower < upper {
                    let before = utf8.index(before: upper)
                    guard utf8[before] == UInt8(ascii: " ") || utf8[before] == UInt8(ascii: "\t") else { break }
                    upper = before
                }
                if lower < upper {
                    let pair = value[lower..<upper]
                    let keepGoing: Bool
                    if let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) {
                        keepGoing = body(value[lower..<equals], value[value.utf8.index(after: equals)..<upper], lower..<upper)
                    } else {
                        keepGoing = body(pair, nil, lower..<upper)
                    }
                    if !keepGoing { return }
                }
                if atEnd { return }
                pieceStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
    }

    /// The header without the named cookies, or `nil` when nothing is left. A header that
    /// carries none of them is returned as it is.
    static func removing(_ names: [String], from value: String) -> String? {
        var found = false
        forEachPair(value) { name, _, _ in
            found = names.contains { $0.utf8.elementsEqual(name.utf8) }
            return !found
        }
        guard found else { return value }
        var kept: [Substring] = []
        forEachPair(value) { name, _, range in
            if !names.contains(where: { $0.utf8.elementsEqual(name.utf8) }) { kept.append(value[range]) }
            return true
        }
        return kept.isEmpty ? nil : kept.joined(separator: "; ")
    }

    /// The value of a cookie, or `nil`; the first one wins.
    static func value(of cookieName: String, in headers: HTTPHeaders) -> Substring? {
        for (name, header) in headers where RequestFraming.isExactly(name, "cookie") {
            var found: Substring?
            forEachPair(header) { name, value, _ in
                if let value, name.utf8.elementsEqual(cookieName.utf8) { found = value }
                return found == nil
            }
            if let found { return found }
        }
        return nil
    }
}
