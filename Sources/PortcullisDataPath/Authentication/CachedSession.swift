import Foundation
import PortcullisCore

/// What the authenticator keeps of a session read from the store: the answer it decided then
/// (the user with their role and permissions, or the refusal), and the few fields a request
/// reads after. The rest of the record (the SCIM document, group details, user agent, IdP
/// session ids) stays in the store, so that a million cached sessions fit in memory
/// (bench/memory). Everything here is fixed until the store is read again: an entry read at
/// an older policy version, or longer than `max_staleness` ago, is read again.
package struct CachedSession: Sendable {
    /// The decided answer: the user, or why the session is refused while it stays so.
    package enum Answer: Sendable {
        case user(User)
        case rejected(ReasonCode)
    }

    /// A signed-in user's identity, all but the idle expiry (which moves with activity).
    package struct User: Sendable {
        var email: String
        var displayName: String?
        var role: EffectiveRole
        var permissions: PermissionSet
        var hasMFA: Bool
        var absoluteExpiresAt: Date
        var revokedAt: Date?
        /// The sign-in at the IdP (`auth_time`), for `max_auth_age`.
        var authenticatedAt: Date?
        /// The session id hash in hex, as the upstream identity's credential id.
        var credentialID: String
    }

    package var answer: Answer
    package var userID: String
    package var device: DeviceInfo

    /// Decides the answer from the identity as the store gave it.
    package init(_ identity: SessionIdentity, hash: SessionIDHash) {
        let user = identity.user
        userID = user.id
        device = identity.session.device
        if !user.active {
            answer = .rejected(.userDeactivated)
        } else if identity.session.stepUpRequiredAt != nil, identity.session.revokedAt == nil {
            // A session flagged for a step-up goes on only after a fresh sign-in at the IdP.
            answer = .rejected(.stepUpRequired)
        } else {
            var revokedAt = identity.session.revokedAt
            if revokedAt == nil, let notBefore = user.notBefore, identity.session.createdAt < notBefore {
                revokedAt = notBefore
            }
            let role = identity.effectiveRole
            answer = .user(User(
                email: user.email, displayName: user.name, role: role, permissions: role.permissions(defaults: identity.defaults),
                hasMFA: identity.session.mfa, absoluteExpiresAt: identity.session.absoluteExpiresAt, revokedAt: revokedAt,
                authenticatedAt: identity.session.authenticatedAt, credentialID: hash.hex
            ))
        }
    }
}
