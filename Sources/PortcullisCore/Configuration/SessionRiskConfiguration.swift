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
