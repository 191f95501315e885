/// Which client headers reach the upstream (SPEC §5). Names compare without regard to case
/// and with `_` equal to `-`: CGI-style stacks turn both `X-Forwarded-User` and
/// `X_Forwarded_User` into `HTTP_X_FORWARDED_USER`, so both spellings are ours to strip.
public enum HeaderRules {
    public enum Disposition: Hashable, Sendable {
        case forward
        /// Connection-level: `Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding`, …
        case hopByHop
        /// Identity headers only Portcullis may set: `X-Portcullis-*`, `X-Forwarded-User`, …
        case identity
        /// Client-address and scheme headers Portcullis sets itself: `X-Forwarded-For`, …
        case forwarding
        /// Headers some frameworks read as the real path or method (`X-Original-URL`,
        /// `X-HTTP-Method-Override`, …): they would let a request be served as another than
        /// the one the policy decided, so they never reach the upstream.
        case override
    }

    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    static let identityNames: [String] = [
        "x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username",
        "x-forwarded-access-token", "remote-user", "x-remote-user", "x-remote-email", "x-remote-groups",
        "x-auth-request-user", "x-auth-request-email", "x-auth-request-groups", "x-auth-request-preferred-username",
        "x-webauth-user", "x-user", "x-email",
    ]

    static let identityPrefix = "x-portcullis-"

    static let overrideNames: [String] = [
        "x-original-url", "x-original-uri", "x-rewrite-url", "x-original-method", "x-http-method-override", "x-http-method",
        "x-method-override",
    ]

    static let forwardingNames: [String] = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix",
        "forwarded", "x-real-ip", "true-client-ip", "x-client-ip", "cf-connecting-ip", "x-original-forwarded-for",
    ]

    public static func disposition(ofRequestHeader name: String) -> Disposition {
        var name = name
        return name.withUTF8 { bytes in
            guard let first = bytes.first else { return .forward }
            switch first | 0x20 {
            case UInt8(ascii: "x"):
                if hasNormalizedPrefix(bytes, identityPrefix) { return .identity }
                if matchesAny(bytes, identityNames) { return .identity }
                if matchesAny(bytes, forwardingNames) { return .forwarding }
                if matchesAny(bytes, overrideNames) { return .override }
                return .forward
            case UInt8(ascii: "r"):
                return matchesAny(bytes, identityNames) ? .identity : .forward
            case UInt8(ascii: "f"), UInt8(ascii: "t"), UInt8(ascii: "c"):
                if matchesAny(bytes, forwardingNames) { return .forwarding }
                return matchesAny(bytes, hopByHop) ? .hopByHop : .forward
            case UInt8(ascii: "k"), UInt8(ascii: "p"), UInt8(ascii: "u"):
                return matchesAny(bytes, hopByHop) ? .hopByHop : .forward
            default:
                return .forward
            }
        }
    }

    /// Response headers from the upstream that must not reach the client.
    public static func isHopByHopResponseHeader(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matchesAny($0, hopByHop) }
    }

    /// Compares a header name with a lower-case canonical name, ignoring case and `_`/`-`.
    public static func name(_ name: String, equals canonical: String) -> Bool {
        var name = name
        return name.withUTF8 { equalsNormalized($0, canonical) }
    }

    private static func matchesAny(_ bytes: UnsafeBufferPointer<UInt8>, _ names: [String]) -> Bool {
        for candidate in names where equalsNormalized(bytes, candidate) { return true }
        return false
    }

    private static func equalsNormalized(_ bytes: UnsafeBufferPointer<UInt8>, _ canonical: String) -> Bool {
        let canonicalBytes = canonical.utf8
        guard bytes.count == canonicalBytes.count else { return false }
        var index = 0
        for expected in canonicalBytes {
            if normalize(bytes[index]) != expected { return false }
            index += 1
        }
        return true
    }

    private static func hasNormalizedPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: String) -> Bool {
        guard bytes.count >= prefix.utf8.count else { return false }
        var index = 0
        for expected in prefix.utf8 {
            if normalize(bytes[index]) != expected { return false }
            index += 1
        }
        return true
    }

    private static func normalize(_ byte: UInt8) -> UInt8 {
        if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
        if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { return byte | 0x20 }
        return byte
    }
}
