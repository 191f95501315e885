import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    /// `POST /teammates/{id or email}/sync`: "sync now" — the user's groups and claims read
    /// from the identity provider at once with their refresh token, answered with the groups
    /// before and after. A refresh the provider refuses ends the user's sessions
    /// (`idp_session_ended`). Audited.
    /// Why "Sync now" cannot work: the gateway keeps no refresh tokens to ask the provider with.
    static let syncUnavailable =
        "groups cannot be read from the identity provider between sign-ins: set identity.oidc.refresh_token_key_file (or _env) to keep refresh tokens"

    @Sendable func syncNow(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let key = try Self.parameter("email", context)
        var found = try await store.user(id: key)
        if found == nil { found = try await store.user(email: key) }
        guard let user = found else { throw AdminAPIError.notFound("teammate \(key)") }
        guard let sync = dependencies.identitySync else {
            throw AdminAPIError.conflict("refresh_unavailable", Self.syncUnavailable)
        }
        let outcome: IdentitySync.Outcome
        do {
            outcome = try await sync.sync(userID: user.id, audit: actor.audit(at: dependencies.now()), alwaysAudit: true)
        } catch let failure as IdentitySync.Failure {
            switch failure.code {
            case .unknownUser: throw AdminAPIError.notFound("teammate \(key) who signed in through SSO")
            case .noRefreshToken:
                throw AdminAPIError.conflict(
                    failure.code.rawValue,
                    "no refresh token is kept for \(user.email): they must sign in again (and the provider must issue refresh tokens: add offline_access to identity.oidc.scopes where it needs it)"
                )
            case .providerUnavailable:
                logger.warning("sync now failed", metadata: ["user": "\(user.email)", "error": "\(failure)"])
                throw AdminAPIError(status: .badGateway, reason: failure.code.rawValue, message: "the identity provider could not be asked; nothing changed")
            }
        }
        switch outcome {
        case .synced(let before, let after):
            if before != after { await dependencies.broadcast(.policy) }
            logger.info("groups synced from the identity provider", metadata: ["actor": "\(actor.email)", "user": "\(user.email)"])
            return Self.json(AdminAPIModels.SyncResult(email: user.email, outcome: "synced", groupsBefore: before, groupsAfter: after, revokedSessions: 0))
        case .ended(let sessions):
            await dependencies.broadcast(.policy)
            let groups = try await store.groups(ofUser: user.id).map(\.name)
            return Self.json(AdminAPIModels.SyncResult(
                email: user.email, outcome: "idp_session_ended", groupsBefore: groups, groupsAfter: groups, revokedSessions: sessions
            ))
        }
    }

    /// `GET /departments`: the departments teammates have, for the teammates page's filter.
    @Sendable func departments(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        return Self.json(AdminAPIModels.DepartmentList(departments: try await store.departments()))
    }
}
