import Foundation
import PortcullisCore

/// One new flag, as the webhook receives it: `POST` with this JSON body and
/// `X-Portcullis-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>`.
package struct SessionRiskAlert: Hashable, Sendable {
    package var flag: SessionFlag
    package var email: String?
    /// The flag's `deny` revoked the session.
    package var revoked: Bool
    /// The session waits for a fresh sign-in.
    package var awaitsStepUp: Bool

    package init(flag: SessionFlag, email: String?, revoked: Bool, awaitsStepUp: Bool) {
        self.flag = flag
        self.email = email
        self.revoked = revoked
        self.awaitsStepUp = awaitsStepUp
    }

    /// The body, with the moment it is sent: `{"type": "session.flagged", "id", "kind",
    /// "action", "reason", "raised_at", "sent_at", "user": {"id", "email"}, "session",
    /// "outcome": {"revoked", "awaits_step_up"}, "evidence": {…}}`. Keys sorted, so the same
    /// alert sent twice differs only in `sent_at`.
    package func body(sentAt: Date) -> Data {
        var user: [String: JSONValue] = ["id": .string(flag.userID)]
        if let email { user["email"] = .string(email) }
        var object: [String: JSONValue] = [
            "type": .string("session.flagged"),
            "id": .string(flag.id),
            "kind": .string(flag.kind.rawValue),
            "action": .string(flag.action.rawValue),
            "reason": .string(flag.reason),
            "raised_at": .string(Self.timestamp(flag.raisedAt)),
            "sent_at": .string(Self.timestamp(sentAt)),
            "user": .object(user),
            "session": .string(flag.sessionIDHash.description),
            "outcome": .object(["revoked": .bool(revoked), "awaits_step_up": .bool(awaitsStepUp)]),
        ]
        object["evidence"] = flag.evidence.jsonValue
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(object))) ?? Data("{}".utf8)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
