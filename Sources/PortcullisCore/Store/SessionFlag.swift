#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A flag raised on a session, as the store keeps it: what was seen, what the policy said to
/// do then, and what became of it (stepped up, dismissed).
public struct SessionFlag: Hashable, Sendable {
    /// Random, 128 bits, hex.
    public var id: String
    public var sessionIDHash: SessionIDHash
    public var userID: String
    public var evidence: SessionRiskEvidence
    public var action: SessionRiskAction
    public var raisedAt: Date
    /// When the user signed in afresh for it (a `step_up` flag, or any flag carried over to
    /// the session that replaced this one after a fresh sign-in).
    public var steppedUpAt: Date?
    public var dismissedAt: Date?
    public var dismissedBy: String?

    public init(
        id: String, sessionIDHash: SessionIDHash, userID: String, evidence: SessionRiskEvidence, action: SessionRiskAction,
        raisedAt: Date, steppedUpAt: Date? = nil, dismissedAt: Date? = nil, dismissedBy: String? = nil
    ) {
        self.id = id
        self.sessionIDHash = sessionIDHash
        self.userID = userID
        self.evidence = evidence
        self.action = action
        self.raisedAt = raisedAt
        self.steppedUpAt = steppedUpAt
        self.dismissedAt = dismissedAt
        self.dismissedBy = dismissedBy
    }

    public var kind: SessionRiskKind { evidence.kind }
    public var reason: String { evidence.reason }
    /// Not dismissed: it shows in the flagged-sessions list.
    public var isOpen: Bool { dismissedAt == nil }
    /// A `step_up` flag neither stepped up nor dismissed: the session is refused until then.
    public var awaitsStepUp: Bool { action == .stepUp && steppedUpAt == nil && dismissedAt == nil }

    /// `{"id", "session", "kind", "action", "reason", "evidence", …}`, for audit entries.
    public var auditValue: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "session": .string(sessionIDHash.description), "kind": .string(kind.rawValue),
            "action": .string(action.rawValue), "reason": .string(reason),
        ]
        object["evidence"] = evidence.jsonValue
        if let steppedUpAt { object["stepped_up_at"] = .number(steppedUpAt.timeIntervalSince1970) }
        if let dismissedBy { object["dismissed_by"] = .string(dismissedBy) }
        return .object(object)
    }
}
