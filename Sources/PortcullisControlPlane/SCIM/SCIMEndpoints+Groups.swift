import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension SCIMEndpoints {
    func requireGroup(_ id: String) async throws -> ProvisionedGroup {
        guard let group = try await store.provisionedGroup(id: id) else { throw SCIMFailure.notFound("no group \(SCIMFailure.quoted(id))") }
        return group
    }

    /// Taking members out of a group runs the rules of a direct role change: SCIM is never a
    /// super admin, so it cannot take `super_admin` from anyone.
    static let membershipRules: @Sendable (MembershipChangeState) -> RoleChangeRefusal? = { state in
        RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: state.group, losing: state.losing)
    }

    func createGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let document = try SCIMDocument.read(try await object(request), type: SCIMSchemaCatalog.groupType)
        let group = try await store.provisionGroup(try SCIMRepresentation.groupDraft(document), audit: audit(context))
        applied()
        logger.info("SCIM: group provisioned", metadata: ["group": "\(group.group.name)", "members": "\(group.members.count)"])
        return try resource(
            SCIMRepresentation.group(group, base: base), type: SCIMSchemaCatalog.groupType, version: group.group.version, request: request,
            status: .created, location: "\(base)/Groups/\(group.group.id)"
        )
    }

    func getGroup(_ id: String, _ request: Request) async throws -> Response {
        let group = try await requireGroup(id)
        return try resource(SCIMRepresentation.group(group, base: base), type: SCIMSchemaCatalog.groupType, version: group.group.version, request: request)
    }

    func replaceGroup(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let current = try await requireGroup(id)
        let document = try SCIMDocument.read(try await object(request), type: SCIMSchemaCatalog.groupType)
        let expected = try Self.expectedVersion(request, current: current.group.version)
        return try await update(id: id, to: try SCIMRepresentation.groupDraft(document), expectedVersion: expected, request: request, context: context)
    }

    func patchGroup(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let operations = try SCIMPatchOperation.operations(from: try await body(request))
        for attempt in 1...3 {
            let current = try await requireGroup(id)
            let expected = try Self.expectedVersion(request, current: current.group.version)
            let document = try SCIMPatch.apply(operations, to: SCIMRepresentation.groupDocument(current), type: SCIMSchemaCatalog.groupType)
            do {
                // As Entra ID asks: 204 without a body (a large group's members are not sent back),
                // unless the request names the attributes it wants (RFC 7644 §3.5.2).
                let parameters = Self.parameters(request)
                return try await update(
                    id: id, to: try SCIMRepresentation.groupDraft(document), expectedVersion: expected ?? current.group.version,
                    request: request, context: context,
                    withoutBody: parameters["attributes"] == nil && parameters["excludedAttributes"] == nil
                )
            } catch is StoreVersionConflict where expected == nil && attempt < 3 {
                continue
            }
        }
        throw SCIMFailure(status: 409, scimType: nil, detail: "the group kept changing; try again")
    }

    func update(
        id: String, to draft: GroupDraft, expectedVersion: Int?, request: Request, context: ControlPlaneRequestContext, withoutBody: Bool = false
    ) async throws -> Response {
        switch try await store.updateProvisionedGroup(id: id, draft, expectedVersion: expectedVersion, audit: audit(context), decide: Self.membershipRules) {
        case nil:
            throw SCIMFailure.notFound("no group \(SCIMFailure.quoted(id))")
        case .failure(let refusal)?:
            throw refusal
        case .success(let group)?:
            applied()
            if withoutBody {
                var headers: HTTPFields = [.eTag: SCIMETag.tag(group.group.version)]
                ControlPlanePages.securityHeaders(&headers)
                return Response(status: .noContent, headers: headers)
            }
            return try resource(SCIMRepresentation.group(group, base: base), type: SCIMSchemaCatalog.groupType, version: group.group.version, request: request)
        }
    }

    func deleteGroup(_ id: String, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let current = try await requireGroup(id)
        let expected = try Self.expectedVersion(request, current: current.group.version)
        switch try await store.deleteProvisionedGroup(id: id, expectedVersion: expected, audit: audit(context), decide: Self.membershipRules) {
        case nil:
            throw SCIMFailure.notFound("no group \(SCIMFailure.quoted(id))")
        case .failure(let refusal)?:
            throw refusal
        case .success?:
            applied()
            logger.info("SCIM: group deprovisioned", metadata: ["group": "\(current.group.name)"])
            var headers: HTTPFields = [:]
            ControlPlanePages.securityHeaders(&headers)
            return Response(status: .noContent, headers: headers)
        }
    }
}
