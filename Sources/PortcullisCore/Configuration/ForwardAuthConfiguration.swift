/// `forward_auth:` — where the proxies in front say which request they ask about (SPEC §5).
///
/// Each endpoint reads the original request from one source only, the headers the proxy in
/// front is configured to set; a request that also carries another header of that family is
/// refused, because the proxy in front passes the client's own headers along (nginx's
/// `auth_request` does) and a header it did not set is the client's.
public struct ForwardAuthConfiguration: Hashable, Sendable {
    /// The header `/_portcullis/auth` (nginx `auth_request`) reads the original target from.
    public enum OriginalURLHeader: String, Hashable, Sendable, CaseIterable {
        /// `X-Original-URI: /path?query`, the host from `Host` (the shipped nginx configuration).
        case originalURI = "X-Original-URI"
        /// `X-Original-URL: https://host/path?query`; a `Host` that names another host is refused.
        case originalURL = "X-Original-URL"
    }

    public var originalURLHeader: OriginalURLHeader

    public init(originalURLHeader: OriginalURLHeader = .originalURI) {
        self.originalURLHeader = originalURLHeader
    }
}
