import Foundation
import Hummingbird
import Logging
import PortcullisCore
import PortcullisTokens

extension AdminAPI {
    /// `GET /api-tokens`: the caller's tokens; `?all=true` lists everyone's for holders of
    /// `api_tokens.create_global`.
    @Sendable func listTokens(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let all = request.uri.queryParameters["all"] == "true"
        if all { try actor.require(.apiTokensCreateGlobal) }
        let tokens = try await store.apiTokens(ownerID: all ? nil : actor.identity.user.id)
        var emails: [String: String] = [actor.identity.user.id: actor.email]
        for token in tokens where emails[token.ownerID] == nil {
            emails[token.ownerID] = try await store.user(id: token.ownerID)?.email ?? token.ownerID
        }
        return Self.json(AdminAPIModels.TokenList(tokens: tokens.map { AdminAPIModels.Token($0, owner: emails[$0.ownerID] ?? $0.ownerID) }))
    }

    /// `POST /api-tokens {name, scope, expires_in_days, owner}`: the secret is in this answer
    /// and nowhere else, ever.
    @Sendable func createToken(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let body = try await decode(AdminAPIModels.CreateToken.self, from: request)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.utf8.count <= 100, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw AdminAPIError.badRequest("name must be 1 to 100 bytes of printable text", reason: "invalid_name")
        }
        let scopeName = body.scope ?? APITokenScope.user.rawValue
        guard let scope = APITokenScope(rawValue: scopeName) else {
            throw AdminAPIError.badRequest("scope must be user or global", reason: "invalid_scope")
        }
        if scope == .global { try actor.require(.apiTokensCreateGlobal) }
        var owner = actor.identity.user
        if let ownerEmail = body.owner, ownerEmail.lowercased() != actor.email.lowercased() {
            try actor.require(.apiTokensCreateGlobal)
            owner = try await teammate(named: ownerEmail).user
        }
        let days = body.expiresInDays ?? 90
        guard (1...366).contains(days) else {
            throw AdminAPIError.badRequest("expires_in_days must be from 1 to 366", reason: "invalid_expiry")
        }
        let now = dependencies.now()
        let (secret, hash) = APITokenSecret.make(tags: dependencies.sessions.credentialTags)
        let record = APITokenRecord(
            id: UUID().uuidString.lowercased(), ownerID: owner.id, name: name, scope: scope,
            displayPrefix: String(secret.prefix(APITokenRecord.secretPrefix.count + 6)), createdAt: now, createdBy: actor.email,
            expiresAt: now.addingTimeInterval(Double(days) * 86_400)
        )
        try await store.insertAPIToken(record, secretHash: hash, audit: actor.audit(at: now))
        logger.info("API token created", metadata: ["actor": "\(actor.email)", "owner": "\(owner.email)", "scope": "\(scope.rawValue)", "token": "\(record.id)"])
        return Self.json(AdminAPIModels.CreatedToken(token: AdminAPIModels.Token(record, owner: owner.email), secret: secret), status: .created)
    }

    /// `DELETE /api-tokens/{id}`: the owner, or an admin who may sign others out.
    @Sendable func revokeToken(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let id = try Self.parameter("id", context)
        guard let token = try await store.apiToken(id: id) else { throw AdminAPIError.notFound("API token \(id)") }
        if token.ownerID != actor.identity.user.id { try actor.require(.teammatesSignOutSessions) }
        guard try await store.revokeAPIToken(id: id, audit: actor.audit(at: dependencies.now())) else {
            throw AdminAPIError.conflict("already_revoked", "the token was already revoked")
        }
        await policyChanged()
        logger.info("API token revoked", metadata: ["actor": "\(actor.email)", "token": "\(id)"])
        let owner = try await store.user(id: token.ownerID)?.email ?? token.ownerID
        guard let revoked = try await store.apiToken(id: id) else { throw AdminAPIError.notFound("API token \(id)") }
        return Self.json(AdminAPIModels.Token(revoked, owner: owner))
    }
}
