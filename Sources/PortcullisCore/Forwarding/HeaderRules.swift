/// Which client headers reach the upstream (SPEC §5). Names compare without regard to case
/// and with `_` equal to `-`: CGI-style stacks turn both `X-Forwarded-User` and
/// `X_Forwarded_User` into `HTTP_X_FORWARDED_USER`, so both spellings are ours to strip.
public enum HeaderRules {
    public enum Disposition: Hashable, Sendable {
        case forward
        /// Connection-level: `Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding`, …
        case hopByHop
        /// Identity headers only Portcullis may set (`X-Portcullis-*`), and those other
        /// gateways set that an upstream may still trust: `X-Forwarded-User`, `Remote-User`, …
        case identity
        /// Client-address, host and scheme headers Portcullis sets itself: `X-Forwarded-*`, …
        case forwarding
        /// Headers some frameworks read as the real path, method or host (`X-Original-URL`,
        /// `X-HTTP-Method-Override`, …), or as a sign to skip their own checks: they would let a
        /// request be served as another than the one the policy decided, so they never reach
        /// the upstream.
        case override
    }

    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Identity headers that some upstream trusts because a proxy in front of it sets them: ours,
    /// and those of the proxies an application may have sat behind before (an upstream that
    /// still reads one must never see a client's copy). Compared with what oauth2-proxy
    /// (`X-Forwarded-*`, `X-Auth-Request-*`), Pomerium (`X-Pomerium-*`) and Envoy
    /// (`X-Forwarded-Client-Cert`) strip or set, plus Authelia's `Remote-*`, Grafana's
    /// `X-WEBAUTH-*`, Kubernetes' `X-Remote-*`, Google IAP, Cloudflare Access, AWS ALB, Azure App
    /// Service, authentik, Vouch, and client-certificate headers (RFC 9440, nginx, IIS, Traefik).
    static let identityNames: [String] = [
        "x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username",
        "x-forwarded-access-token", "x-forwarded-authorization", "x-forwarded-client-cert", "remote-user", "remote-groups",
        "remote-email", "remote-name", "x-remote-user", "x-remote-email", "x-remote-group", "x-remote-groups", "x-auth-user",
        "x-auth-username", "x-auth-email", "x-auth-groups", "x-user", "x-email", "x-goog-iap-jwt-assertion",
        "cf-access-jwt-assertion", "cf-access-authenticated-user-email", "x-endpoint-api-userinfo", "x-apigateway-api-userinfo",
        "client-cert", "client-cert-chain", "ssl-client-cert", "x-client-cert", "x-arr-clientcert",
        // Kong (its key-auth/JWT/OAuth/basic-auth/LDAP plugins and kong-oidc, whose `X-ID-Token`
        // carries the ID token's claims next to `X-Userinfo`).
        "x-authenticated-userid", "x-authenticated-user", "x-authenticated-scope", "x-anonymous-consumer", "x-credential-identifier",
        "x-credential-username", "x-userinfo", "x-id-token",
    ]

    /// Families of identity headers, by prefix.
    static let identityPrefixes: [String] = [
        "x-portcullis-", "x-pomerium-", "x-auth-request-", "x-webauth-", "x-remote-extra-", "x-goog-authenticated-user-",
        "x-amzn-oidc-", "x-ms-client-principal", "x-ms-token-", "x-authentik-", "x-vouch-", "x-ssl-client-",
        "x-forwarded-tls-client-cert", "x-consumer-",
    ]

    /// Families of identity headers whose names do not start with `x-`: Tailscale Serve's
    /// `Tailscale-User-*`, and every header mod_auth_openidc sets, all named `OIDC_*`/`OIDC-*`
    /// (`OIDC_CLAIM_*`, `OIDC_access_token`, `OIDC_id_token_payload`, `OIDC_userinfo_json`,
    /// `OIDC_refresh_token`, …: the whole prefix, as its set grows with its options).
    static let otherIdentityPrefixes: [String] = ["tailscale-user-", "oidc-"]

    /// Headers that ask the upstream (or a proxy behind the gateway) to serve another path or
    /// method than the one the policy decided on, or to skip its own checks: Microsoft's and
    /// Symfony's `X-Original-URL`/`X-Rewrite-URL`, nginx's `X-Original-URI`, the method overrides
    /// of Rails, Laravel, Express and ASP.NET, `X-Script-Name`, Next.js's internal
    /// `X-Middleware-Subrequest` (CVE-2025-29927), and Envoy's own `X-Envoy-*`, which Envoy
    /// itself removes from outside requests.
    static let overrideNames: [String] = [
        "x-original-url", "x-original-uri", "x-original-host", "x-rewrite-url", "x-original-method", "x-http-method-override",
        "x-http-method", "x-method-override", "x-script-name", "x-middleware-subrequest",
    ]

    static let overridePrefixes: [String] = ["x-envoy-"]

    /// Client-address, host and scheme headers, which the gateway sets itself: every
    /// `X-Forwarded-*` (`-For`, `-Proto`, `-Host`, `-Port`, `-Prefix`, `-Uri`, `-Method`, `-Ssl`,
    /// `-Scheme`, …), `Forwarded`, and the client-address headers of CDNs and frameworks.
    static let forwardingNames: [String] = [
        "forwarded", "x-real-ip", "true-client-ip", "x-client-ip", "client-ip", "x-cluster-client-ip", "x-originating-ip",
        "cf-connecting-ip", "fastly-client-ip", "x-original-forwarded-for", "front-end-https",
    ]

    static let forwardingPrefix = "x-forwarded-"

    /// The names of each list by their first letter: a header is compared only with the names
    /// that start as it does (a `Cookie` with the four `c…` identity names, not all thirty).
    static let identityNamesByInitial = Dictionary(grouping: identityNames) { $0.utf8.first ?? 0 }
    static let forwardingNamesByInitial = Dictionary(grouping: forwardingNames) { $0.utf8.first ?? 0 }

    public static func disposition(ofRequestHeader name: String) -> Disposition {
        var name = name
        return name.withUTF8 { bytes in
            guard let first = bytes.first else { return .forward }
            switch first | 0x20 {
            case UInt8(ascii: "x"):
                if matchesAnyPrefix(bytes, identityPrefixes) || matchesAny(bytes, identityNames) { return .identity }
                if hasNormalizedPrefix(bytes, forwardingPrefix) || matchesAny(bytes, forwardingNames) { return .forwarding }
                if matchesAny(bytes, overrideNames) || matchesAnyPrefix(bytes, overridePrefixes) { return .override }
                return .forward
            case UInt8(ascii: "r"), UInt8(ascii: "s"):
                if let names = identityNamesByInitial[first | 0x20], matchesAny(bytes, names) { return .identity }
                return .forward
            case UInt8(ascii: "o"):
                if let names = identityNamesByInitial[first | 0x20], matchesAny(bytes, names) { return .identity }
                return matchesAnyPrefix(bytes, otherIdentityPrefixes) ? .identity : .forward
            case UInt8(ascii: "c"), UInt8(ascii: "f"), UInt8(ascii: "t"):
                if let names = identityNamesByInitial[first | 0x20], matchesAny(bytes, names) { return .identity }
                if first | 0x20 == UInt8(ascii: "t"), matchesAnyPrefix(bytes, otherIdentityPrefixes) { return .identity }
                if let names = forwardingNamesByInitial[first | 0x20], matchesAny(bytes, names) { return .forwarding }
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

    private static func matchesAnyPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefixes: [String]) -> Bool {
        for prefix in prefixes where hasNormalizedPrefix(bytes, prefix) { return true }
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
