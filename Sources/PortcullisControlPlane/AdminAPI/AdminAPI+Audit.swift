import Foundation
import Hummingbird
import PortcullisCore

extension AdminAPI {
    /// `GET /audit?since=&actor=&action=&target=&limit=`: newest first.
    @Sendable func audit(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = AuditQuery()
        if let since = parameters["since"].map(String.init) {
            guard let date = Self.instant(since) else {
                throw AdminAPIError.badRequest("since must be an ISO 8601 instant or seconds since 1970", reason: "invalid_since")
            }
            query.since = date
        }
        query.actor = parameters["actor"].map(String.init)
        query.action = parameters["action"].map { AuditAction(rawValue: String($0)) }
        query.target = parameters["target"].map(String.init)
        if let limit = parameters["limit"] {
            guard let value = Int(limit), (1...10_000).contains(value) else {
                throw AdminAPIError.badRequest("limit must be from 1 to 10000", reason: "invalid_limit")
            }
            query.limit = value
        }
        return Self.json(AdminAPIModels.AuditList(entries: try await store.auditEntries(query)))
    }

    /// `GET /audit/verify`: recomputes the hash chain.
    @Sendable func verifyAudit(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        return Self.json(try await store.verifyAuditLog())
    }

    /// `POST /signing-keys/rotate` (super admins): a new assertion key signs from now on; the
    /// old one stays in the JWKS.
    @Sendable func rotateSigningKey(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let now = dependencies.now()
        let kid = try await dependencies.keys.rotateNow(now: now)
        try await store.appendAudit(AuditEvent(actor.audit(at: now), action: .signingKeyRotated, target: "assertion", before: nil,
                                               after: .object(["kid": .string(kid)])))
        await dependencies.broadcast(.policy)
        return Self.json(AdminAPIModels.RotatedKey(kid: kid, published: dependencies.keys.keyIDs))
    }

    static func instant(_ text: String) -> Date? {
        if let seconds = Double(text), seconds.isFinite { return Date(timeIntervalSince1970: seconds) }
        return try? Date(text, strategy: .iso8601)
    }
}
