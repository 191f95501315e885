/// What an assessment's write did.
public struct SessionRiskRecorded: Hashable, Sendable {
    /// The flags written: those of the record that the session did not already carry (the
    /// same kind and subject, in any state, is not raised twice on one session).
    public var raised: [SessionFlag]
    /// The session was revoked by this write.
    public var revoked: Bool
    /// The session now awaits a fresh sign-in.
    public var awaitsStepUp: Bool

    public init(raised: [SessionFlag], revoked: Bool, awaitsStepUp: Bool) {
        self.raised = raised
        self.revoked = revoked
        self.awaitsStepUp = awaitsStepUp
    }
}
