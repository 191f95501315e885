import Foundation
import PortcullisCore

/// The IP-policy tester's questions that need the store, answered one way for the admin API
/// (`POST /ip-policy/test`, `POST /ip-policy/dry-run`) and for `portcullis ip-check`, so that
/// both give the same answer in the same JSON (``encoder``).
package enum IPPolicyInquiry {
    /// The JSON the admin API answers with: snake_case keys, ISO 8601 dates, sorted keys.
    package static var encoder: JSONEncoder { AdminAPI.encoder }

    /// The user as the tester takes them: signed in through SSO with a second factor, holding
    /// their current effective role and permissions. `nil` when there is no such user.
    package static func assumedUser(email: String, store: any IdentityStore & UserLookupStore) async throws -> AuthenticatedUser? {
        guard let user = try await store.user(email: email), let identity = try await store.userIdentity(userID: user.id) else {
            return nil
        }
        let role = identity.effectiveRole
        return AuthenticatedUser(
            userID: identity.user.id, email: identity.user.email, displayName: identity.user.name, role: role,
            permissions: role.permissions(defaults: identity.defaults), method: .oidc, hasMFA: true
        )
    }

    /// Which active sessions (by their last address) and which admins a proposed tenant-wide
    /// list would cut off, and whether `address` (the one asking) is outside it.
    package static func dryRun(
        _ list: Greenlist, store: any SessionStore & IdentityStore, idleTimeout: Duration, now: Date, from address: IPAddress
    ) async throws -> AdminAPIModels.DryRunResult {
        let sessions = try await store.activeSessions(now: now, limit: 10_000).filter { $0.isActive(at: now, idleTimeout: idleTimeout) }
        var identities: [String: UserIdentity] = [:]
        var pairs: [(user: UserIdentity, session: SessionRecord)] = []
        for session in sessions {
            if identities[session.userID] == nil {
                identities[session.userID] = try await store.userIdentity(userID: session.userID)
            }
            if let identity = identities[session.userID] { pairs.append((identity, session)) }
        }
        let impact = GreenlistImpact.assess(list, sessions: pairs, actorAddress: address)
        return AdminAPIModels.DryRunResult(
            sessionsCutOff: impact.sessionsCutOff.map {
                AdminAPIModels.CutOffSession(
                    email: $0.email, session: String($0.session.idHash.hex.prefix(12)), ip: $0.session.lastIP.description,
                    location: AdminAPIModels.Location($0.session.lastLocation, address: $0.session.lastIP), lastSeenAt: $0.session.lastSeenAt
                )
            },
            adminsCutOff: impact.adminsCutOff,
            wouldLockOutSelf: impact.locksOutActor,
            yourAddress: address.description
        )
    }
}
