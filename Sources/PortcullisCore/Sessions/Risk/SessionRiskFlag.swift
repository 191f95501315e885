/// One thing that looks suspicious about a session, with its evidence, and what the policy
/// says to do about it.
public struct SessionRiskFlag: Hashable, Sendable {
    public var evidence: SessionRiskEvidence
    public var action: SessionRiskAction

    public init(evidence: SessionRiskEvidence, action: SessionRiskAction) {
        self.evidence = evidence
        self.action = action
    }

    public var kind: SessionRiskKind { evidence.kind }
    /// In words: `Sydney, AU → Berlin, DE in 12 min (80,000 km/h)`.
    public var reason: String { evidence.reason }
}
