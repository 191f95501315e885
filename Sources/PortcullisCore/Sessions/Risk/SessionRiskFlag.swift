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

/// The flags one observation raised; empty when nothing looks wrong.
public struct SessionRiskAssessment: Hashable, Sendable {
    public var flags: [SessionRiskFlag]

    public init(flags: [SessionRiskFlag]) {
        self.flags = flags
    }

    /// The strongest action among the flags (`deny` > `step_up` > `flag`); `nil` when none.
    public var action: SessionRiskAction? { flags.map(\.action).max() }
}
