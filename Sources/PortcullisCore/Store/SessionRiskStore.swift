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
}

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

/// A live session with open flags, for `GET /sessions?flagged=true`.
public struct FlaggedSession: Hashable, Sendable {
    public var session: SessionRecord
    public var email: String
    public var name: String?
    /// Every flag of the session, newest first, dismissed ones included.
    public var flags: [SessionFlag]

    public init(session: SessionRecord, email: String, name: String?, flags: [SessionFlag]) {
        self.session = session
        self.email = email
        self.name = name
        self.flags = flags
    }
}

/// The session history the signals read and the flags they raise (SPEC §3, "Suspicious
/// sessions"). Every flag, dismissal and step-up is written with its audit entry.
public protocol SessionRiskStore: Sendable {
    /// The user's observations since `since`, newest first, at most `limit`.
    func riskHistory(userID: String, since: Date, limit: Int) async throws -> [SessionObservation]
    func recordSessionRisk(_ record: SessionRiskRecord) async throws -> SessionRiskRecorded
    /// Every flag on the user's sessions, newest first.
    func sessionFlags(userID: String) async throws -> [SessionFlag]
    /// Sessions not revoked and not past their absolute expiry that carry an open flag, the
    /// most recently flagged first, at most `limit`. (Callers filter idle expiry.)
    func flaggedSessions(now: Date, limit: Int) async throws -> [FlaggedSession]
    /// Dismisses a flag (audited as `session.flag.dismissed`); when it was the session's last
    /// flag awaiting a step-up, the session is usable again. `nil` when there is no such flag;
    /// a flag dismissed before is answered as it is, without a second audit entry.
    func dismissSessionFlag(id: String, audit: AuditContext) async throws -> SessionFlag?
    /// After a fresh sign-in from a session awaiting a step-up: its open flags move to the
    /// session that replaces it, marked stepped up (audited as `session.stepped_up`). Answers
    /// how many moved.
    func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int
    /// Deletes observations older than `before` (the history window). Flags go with their
    /// sessions, when those are purged. Answers how many observations went.
    func pruneSessionHistory(before: Date) async throws -> Int
}
