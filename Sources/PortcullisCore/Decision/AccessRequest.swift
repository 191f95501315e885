/// A request as the policy sees it: plain values built by an adapter.
public struct AccessRequest: Hashable, Sendable {
    public var method: String
    /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2), as received.
    public var host: String?
    /// The request-target, as received: `/path?query`.
    public var target: String
    /// The client's address after the trusted-proxy walk.
    public var client: IPAddress
    public var identity: RequestIdentity

    public init(method: String, host: String?, target: String, client: IPAddress, identity: RequestIdentity = .anonymous) {
        self.method = method
        self.host = host
        self.target = target
        self.client = client
        self.identity = identity
    }
}
