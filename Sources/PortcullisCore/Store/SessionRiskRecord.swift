#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one assessment writes, in one transaction: the observation for the history and the
/// new flags with their audit entries. A new `step_up` flag marks the session so that it is
/// refused until a fresh sign-in; a new `deny` flag revokes it (`suspicious_session`).
public struct SessionRiskRecord: Hashable, Sendable {
    public var userID: String
    public var sessionIDHash: SessionIDHash
    /// Kept in the history (for later signals); `nil` when nothing new was seen.
    public var observation: SessionObservation?
    public var flags: [SessionFlag]
    /// The actor, the client address and the time of the audit entries.
    public var audit: AuditContext

    public init(userID: String, sessionIDHash: SessionIDHash, observation: SessionObservation?, flags: [SessionFlag], audit: AuditContext) {
        self.userID = userID
        self.sessionIDHash = sessionIDHash
        self.observation = observation
        self.flags = flags
        self.audit = audit
    }

    /// The actor named in the audit log and in `revoked_by` for what the signals do.
    public static let actor = "session-risk"
    /// Flags one session carries at most: past this, new ones are not written (nor audited,
    /// nor sent), so that a session hopping between many networks cannot fill the store.
    public static let maximumFlagsPerSession = 20
}
