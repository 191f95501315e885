#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
    /// Dismisses a flag (audited as `session.flag.dismissed`) unless `decide`, given the flag
    /// and its session's owner as they are inside the writing transaction, refuses (then
    /// nothing is written or audited); when it was the session's last flag awaiting a step-up,
    /// the session is usable again. `nil` when there is no such flag; a flag dismissed before
    /// is answered as it is, without a second audit entry.
    func dismissSessionFlag(
        id: String, audit: AuditContext, decide: @escaping @Sendable (SessionFlagDismissal.State) -> RoleChangeRefusal?
    ) async throws -> Result<SessionFlag, RoleChangeRefusal>?
    /// After a fresh sign-in from a session awaiting a step-up: its open flags move to the
    /// session that replaces it, marked stepped up (audited as `session.stepped_up`). Only to a
    /// session of the same user: the person who just signed in afresh as the owner is the one
    /// the flags asked for, so no admin (nor anyone else) can carry another's flags away.
    /// Answers how many moved.
    func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int
    /// Deletes observations older than `before` (the history window). Flags go with their
    /// sessions, when those are purged. Answers how many observations went.
    func pruneSessionHistory(before: Date) async throws -> Int
}

extension SessionRiskStore {
    /// A dismissal nothing refuses, for tests and the host's command line (never for a request:
    /// the admin API decides with ``SessionFlagDismissal``).
    public func dismissSessionFlagUnconditionally(id: String, audit: AuditContext) async throws -> SessionFlag? {
        switch try await dismissSessionFlag(id: id, audit: audit, decide: { _ in nil }) {
        case .success(let flag)?: flag
        case .failure?, nil: nil
        }
    }
}
