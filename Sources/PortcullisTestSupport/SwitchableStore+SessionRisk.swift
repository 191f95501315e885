import Foundation
import PortcullisCore

extension SwitchableStore {
    public func riskHistory(userID: String, since: Date, limit: Int) async throws -> [SessionObservation] {
        try enter("riskHistory")
        return try await base.riskHistory(userID: userID, since: since, limit: limit)
    }

    public func recordSessionRisk(_ record: SessionRiskRecord) async throws -> SessionRiskRecorded {
        try enter("recordSessionRisk")
        return try await base.recordSessionRisk(record)
    }

    public func sessionFlags(userID: String) async throws -> [SessionFlag] {
        try enter("sessionFlags")
        return try await base.sessionFlags(userID: userID)
    }

    public func flaggedSessions(now: Date, limit: Int) async throws -> [FlaggedSession] {
        try enter("flaggedSessions")
        return try await base.flaggedSessions(now: now, limit: limit)
    }

    public func dismissSessionFlag(
        id: String, audit: AuditContext, decide: @escaping @Sendable (SessionFlagDismissal.State) -> RoleChangeRefusal?
    ) async throws -> Result<SessionFlag, RoleChangeRefusal>? {
        try enter("dismissSessionFlag")
        return try await base.dismissSessionFlag(id: id, audit: audit, decide: decide)
    }

    public func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int {
        try enter("continueSteppedUpSession")
        return try await base.continueSteppedUpSession(from: old, to: new, audit: audit)
    }

    public func pruneSessionHistory(before cutoff: Date) async throws -> Int {
        try enter("pruneSessionHistory")
        return try await base.pruneSessionHistory(before: cutoff)
    }
}
