/// `sessions.risk.webhook:` — a URL to POST each new flag to, as JSON signed with HMAC-SHA256.
public struct SessionRiskWebhook: Hashable, Sendable {
    /// `https://…` (or `http://` to a loopback address).
    public var url: String
    /// The HMAC key: from a file or an environment variable, never the YAML itself.
    public var secret: SecretSource
    /// An extra trust root for the receiver's certificate.
    public var caFile: String?

    public init(url: String, secret: SecretSource, caFile: String? = nil) {
        self.url = url
        self.secret = secret
        self.caFile = caFile
    }

    /// The secret's shortest length.
    public static let minimumSecretLength = 32
}
