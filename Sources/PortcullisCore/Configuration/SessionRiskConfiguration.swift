/// `sessions.risk:` — the suspicious-session signals, what to do about each, and where to
/// send alerts.
public struct SessionRiskConfiguration: Hashable, Sendable {
    /// `false` turns the signals off: no history is kept, nothing is flagged.
    public var enabled: Bool
    /// `history`, `max_speed_kmh` and `action`.
    public var policy: SessionRiskPolicy
    /// `webhook`: where each new flag is POSTed, signed.
    public var webhook: SessionRiskWebhook?

    public init(enabled: Bool = true, policy: SessionRiskPolicy = SessionRiskPolicy(), webhook: SessionRiskWebhook? = nil) {
        self.enabled = enabled
        self.policy = policy
        self.webhook = webhook
    }
}

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
