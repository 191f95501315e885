#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// "Which active sessions and which admins would this greenlist cut off?" (SPEC §4), answered
/// from the sessions' last known addresses. Pure: the caller reads the sessions.
public struct GreenlistImpact: Hashable, Sendable {
    public struct SessionCutOff: Hashable, Sendable {
        public var email: String
        public var session: SessionRecord
    }

    /// Active sessions whose last address falls outside the list.
    public var sessionsCutOff: [SessionCutOff]
    /// Admins and super admins with active sessions, none of them from inside the list.
    public var adminsCutOff: [String]
    /// The acting admin's own address falls outside the list.
    public var locksOutActor: Bool

    /// - Parameters:
    ///   - sessions: active sessions with their users' identities.
    ///   - actorAddress: where the admin proposing the list connects from now.
    public static func assess(
        _ list: Greenlist,
        sessions: [(user: UserIdentity, session: SessionRecord)],
        actorAddress: IPAddress?
    ) -> GreenlistImpact {
        var cutOff: [SessionCutOff] = []
        var adminInside: [String: Bool] = [:]
        for (user, session) in sessions {
            let inside = list.contains(session.lastIP)
            if !inside {
                cutOff.append(SessionCutOff(email: user.user.email, session: session))
            }
            if user.effectiveRole.primary >= .admin {
                adminInside[user.user.email, default: false] = adminInside[user.user.email, default: false] || inside
            }
        }
        return GreenlistImpact(
            sessionsCutOff: cutOff,
            adminsCutOff: adminInside.filter { !$0.value }.map(\.key).sorted(),
            locksOutActor: actorAddress.map { !list.contains($0) } ?? false
        )
    }
}
