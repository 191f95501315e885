/// What the gateway does about a flag (`sessions.risk.action.<kind>`).
public enum SessionRiskAction: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// Show it to admins, audit it and send it to the webhook; the session goes on.
    case flag
    /// The session's next request sends the user through the identity provider again
    /// (`prompt=login`, `max_age=0`); it goes on only after a fresh sign-in.
    case stepUp = "step_up"
    /// The session is revoked with reason `suspicious_session`.
    case deny

    /// `flag` < `step_up` < `deny`: the strongest action of several flags wins.
    public static func < (lhs: SessionRiskAction, rhs: SessionRiskAction) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// The reason a session is revoked with for `deny`.
    public static let revocationReason = "suspicious_session"
}
