import Foundation
import Hummingbird
import PortcullisCore
import PortcullisDataPath

extension SCIMEndpoints {
    func userResource(_ user: UserRecord) async throws -> JSONValue {
        SCIMResources.user(user, groups: try await store.groups(ofUser: user.id), base: base)
    }

    /// `GET /Users?filter=userName eq "…"&startIndex=&count=`.
    @Sendable func listUsers(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let (startIndex, count) = try Self.page(request)
        var matches: [UserRecord]
        var total: Int
        if let text = Self.parameter("filter", in: request) {
            let filter = try SCIMFilter(parsing: text)
            switch filter.attribute {
            case .userName: matches = try await store.user(email: filter.value).map { [$0] } ?? []
            case .id: matches = try await store.user(id: filter.value).map { [$0] } ?? []
            case .externalId, .displayName:
                // Not indexed: a scan, fine at directory sizes; identity providers filter on userName.
                let all = try await store.provisionedUsers(offset: 0, limit: Int(Int32.max)).users
                matches = all.filter { filter.attribute == .externalId ? $0.externalID == filter.value : $0.name == filter.value }
            }
            total = matches.count
            matches = Array(matches.dropFirst(startIndex - 1).prefix(count))
        } else {
            (matches, total) = try await store.provisionedUsers(offset: startIndex - 1, limit: count)
        }
        var resources: [JSONValue] = []
        for user in matches { resources.append(try await userResource(user)) }
        return Self.json(SCIMResources.list(resources, total: total, startIndex: startIndex))
    }

    @Sendable func createUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let user = try SCIMResources.provisionedUser(from: try await body(request))
        let created = try await store.provisionUser(user, audit: audit(context))
        applied()
        dependencies.logger.info("SCIM: user provisioned", metadata: ["user": "\(created.email)"])
        return Self.json(try await userResource(created), status: .created, location: "\(base)/Users/\(created.id)")
    }

    @Sendable func getUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let user = try await store.user(id: id) else { throw SCIMError.notFound("no user \(id)") }
        return Self.json(try await userResource(user))
    }

    @Sendable func replaceUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        let user = try SCIMResources.provisionedUser(from: try await body(request))
        return try await update(id: id, to: user, context: context)
    }

    @Sendable func patchUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        let operations = try SCIMPatch.operations(try await body(request))
        guard let current = try await store.user(id: id) else { throw SCIMError.notFound("no user \(id)") }
        let updated = try SCIMPatch.apply(operations, to: ProvisionedUser(
            email: current.email, name: current.name, department: current.department, active: current.active, externalID: current.externalID
        ))
        return try await update(id: id, to: updated, context: context)
    }

    func update(id: String, to user: ProvisionedUser, context: ControlPlaneRequestContext) async throws -> Response {
        guard let (updated, outcome) = try await store.updateProvisionedUser(id: id, user, audit: audit(context)) else {
            throw SCIMError.notFound("no user \(id)")
        }
        applied(outcome, userID: id)
        if !user.active {
            dependencies.logger.notice("SCIM: user deactivated; sessions and tokens revoked", metadata: [
                "user": "\(updated.email)", "sessions": "\(outcome.revokedSessions.count)", "tokens": "\(outcome.revokedTokens)",
            ])
        }
        return Self.json(try await userResource(updated))
    }

    @Sendable func deleteUser(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let outcome = try await store.deleteProvisionedUser(id: id, audit: audit(context)) else {
            throw SCIMError.notFound("no user \(id)")
        }
        applied(outcome, userID: id)
        dependencies.logger.notice("SCIM: user deleted; sessions and tokens revoked", metadata: [
            "user_id": "\(id)", "sessions": "\(outcome.revokedSessions.count)", "tokens": "\(outcome.revokedTokens)",
        ])
        return Response(status: .noContent)
    }
}
