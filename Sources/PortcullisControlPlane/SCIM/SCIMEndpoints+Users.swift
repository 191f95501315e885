import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension SCIMEndpoints {
    func userResource(_ user: UserRecord) async throws -> [String: JSONValue] {
        SCIMRepresentation.user(user, groups: try await store.groups(ofUser: user.id), base: base)
    }

    func requireUser(_ id: String) async throws -> UserRecord {
        guard let user = try await store.user(id: id) else { throw SCIMFailure.notFound("no user \(SCIMFailure.quoted(id))") }
        return user
    }

    func createUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let document = try SCIMDocument.read(try await object(request), type: SCIMSchemaCatalog.userType)
        let created = try await store.provisionUser(try SCIMRepresentation.provisionedUser(document), audit: audit(context))
        applied()
        logger.info("SCIM: user provisioned", metadata: ["user": "\(created.email)"])
        return try resource(
            try await userResource(created), type: SCIMSchemaCatalog.userType, version: created.version, request: request, status: .created,
            location: "\(base)/Users/\(created.id)"
        )
    }

    func getUser(_ id: String, _ request: Request) async throws -> Response {
        let user = try await requireUser(id)
        return try resource(try await userResource(user), type: SCIMSchemaCatalog.userType, version: user.version, request: request)
    }

    /// PUT replaces every writable attribute (RFC 7644 §3.5.1): attributes left out are cleared.
    /// Okta deactivates this way, sending the whole user with `"active": false`.
    func replaceUser(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let current = try await requireUser(id)
        let document = try SCIMDocument.read(try await object(request), type: SCIMSchemaCatalog.userType)
        let expected = try Self.expectedVersion(request, current: current.version)
        return try await update(id: id, to: try SCIMRepresentation.provisionedUser(document), expectedVersion: expected, request: request, context: context)
    }

    /// PATCH works on the stored document; without `If-Match` it retries when another write
    /// got in between, so concurrent patches never overwrite each other.
    func patchUser(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let operations = try SCIMPatchOperation.operations(from: try await body(request))
        for attempt in 1...3 {
            let current = try await requireUser(id)
            let expected = try Self.expectedVersion(request, current: current.version)
            let document = try SCIMPatch.apply(
                operations, to: current.scimDocument ?? SCIMRepresentation.synthesized(current), type: SCIMSchemaCatalog.userType
            )
            do {
                return try await update(
                    id: id, to: try SCIMRepresentation.provisionedUser(document), expectedVersion: expected ?? current.version,
                    request: request, context: context
                )
            } catch is StoreVersionConflict where expected == nil && attempt < 3 {
                continue
            }
        }
        throw SCIMFailure(status: 409, scimType: nil, detail: "the user kept changing; try again")
    }

    func update(
        id: String, to user: ProvisionedUser, expectedVersion: Int?, request: Request, context: ControlPlaneRequestContext
    ) async throws -> Response {
        guard let (updated, outcome) = try await store.updateProvisionedUser(id: id, user, expectedVersion: expectedVersion, audit: audit(context)) else {
            throw SCIMFailure.notFound("no user \(SCIMFailure.quoted(id))")
        }
        applied(outcome, userID: id)
        if !user.active {
            logger.notice("SCIM: user deactivated; sessions and tokens revoked", metadata: [
                "user": "\(updated.email)", "sessions": "\(outcome.revokedSessions.count)", "tokens": "\(outcome.revokedTokens)",
            ])
        }
        return try resource(try await userResource(updated), type: SCIMSchemaCatalog.userType, version: updated.version, request: request)
    }

    func deleteUser(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let current = try await requireUser(id)
        let expected = try Self.expectedVersion(request, current: current.version)
        guard let outcome = try await store.deleteProvisionedUser(id: id, expectedVersion: expected, audit: audit(context)) else {
            throw SCIMFailure.notFound("no user \(SCIMFailure.quoted(id))")
        }
        applied(outcome, userID: id)
        logger.notice("SCIM: user deleted; sessions and tokens revoked", metadata: [
            "user_id": "\(id)", "sessions": "\(outcome.revokedSessions.count)", "tokens": "\(outcome.revokedTokens)",
        ])
        var headers: HTTPFields = [:]
        ControlPlanePages.securityHeaders(&headers)
        return Response(status: .noContent, headers: headers)
    }
}
