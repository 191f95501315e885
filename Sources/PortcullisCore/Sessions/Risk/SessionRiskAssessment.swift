/// The flags one observation raised; empty when nothing looks wrong.
public struct SessionRiskAssessment: Hashable, Sendable {
    public var flags: [SessionRiskFlag]

    public init(flags: [SessionRiskFlag]) {
        self.flags = flags
    }

    /// The strongest action among the flags (`deny` > `step_up` > `flag`); `nil` when none.
    public var action: SessionRiskAction? { flags.map(\.action).max() }
}
