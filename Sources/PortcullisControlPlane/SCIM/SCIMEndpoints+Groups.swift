import Foundation
import Hummingbird
import PortcullisCore
import PortcullisDataPath

extension SCIMEndpoints {
    /// `GET /Groups?filter=displayName eq "…"&startIndex=&count=`.
    @Sendable func listGroups(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let (startIndex, count) = try Self.page(request)
        var groups: [ProvisionedGroup]
        var total: Int
        if let text = Self.parameter("filter", in: request) {
            let filter = try SCIMFilter(parsing: text)
            switch filter.attribute {
            case .displayName:
                if let summary = try await store.group(named: filter.value), let group = try await store.provisionedGroup(id: summary.group.id) {
                    groups = [group]
                } else {
                    groups = []
                }
            case .id: groups = try await store.provisionedGroup(id: filter.value).map { [$0] } ?? []
            case .externalId:
                groups = try await store.provisionedGroups(offset: 0, limit: Int(Int32.max)).groups.filter { $0.group.externalID == filter.value }
            case .userName:
                throw SCIMError.invalidFilter("groups have no userName")
            }
            total = groups.count
            groups = Array(groups.dropFirst(startIndex - 1).prefix(count))
        } else {
            (groups, total) = try await store.provisionedGroups(offset: startIndex - 1, limit: count)
        }
        // `excludedAttributes=members` keeps answers small for big groups.
        let withoutMembers = request.uri.queryParameters["excludedAttributes"]?.lowercased().contains("members") == true
        let resources = groups.map { group in
            SCIMResources.group(withoutMembers ? ProvisionedGroup(group: group.group, members: []) : group, base: base)
        }
        return Self.json(SCIMResources.list(resources, total: total, startIndex: startIndex))
    }

    @Sendable func createGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        guard let fields = try await body(request).objectValue.map(SCIMResources.caseInsensitive) else {
            throw SCIMError.invalidSyntax("the body must be a JSON object")
        }
        let name = try SCIMResources.groupName(fields["displayname"])
        let externalID = try fields["externalid"].flatMap { value throws(SCIMError) in try SCIMResources.optionalText(value, field: "externalId", maximum: 255) }
        let group = try await store.provisionGroup(
            name: name, externalID: externalID, members: try SCIMResources.memberIDs(fields["members"]), audit: audit(context)
        )
        applied()
        dependencies.logger.info("SCIM: group provisioned", metadata: ["group": "\(name)", "members": "\(group.members.count)"])
        return Self.json(SCIMResources.group(group, base: base), status: .created, location: "\(base)/Groups/\(group.group.id)")
    }

    @Sendable func getGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let group = try await store.provisionedGroup(id: id) else { throw SCIMError.notFound("no group \(id)") }
        return Self.json(SCIMResources.group(group, base: base))
    }

    @Sendable func replaceGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let fields = try await body(request).objectValue.map(SCIMResources.caseInsensitive) else {
            throw SCIMError.invalidSyntax("the body must be a JSON object")
        }
        let name = try SCIMResources.groupName(fields["displayname"])
        let externalID = try fields["externalid"].flatMap { value throws(SCIMError) in try SCIMResources.optionalText(value, field: "externalId", maximum: 255) }
        guard let group = try await store.replaceProvisionedGroup(
            id: id, name: name, externalID: externalID, members: try SCIMResources.memberIDs(fields["members"]), audit: audit(context)
        ) else { throw SCIMError.notFound("no group \(id)") }
        applied()
        return Self.json(SCIMResources.group(group, base: base))
    }

    @Sendable func patchGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        let operations = try SCIMPatch.operations(try await body(request))
        guard let current = try await store.provisionedGroup(id: id) else { throw SCIMError.notFound("no group \(id)") }
        let wanted = try SCIMPatch.apply(operations, to: SCIMPatch.GroupState(
            name: current.group.name, externalID: current.group.externalID, members: current.members.map(\.id)
        ))
        let group: ProvisionedGroup?
        if wanted.name == current.group.name, wanted.externalID == current.group.externalID {
            let before = Set(current.members.map(\.id)), after = Set(wanted.members)
            group = try await store.changeGroupMembers(
                id: id, adding: Array(after.subtracting(before)), removing: Array(before.subtracting(after)), audit: audit(context)
            )
        } else {
            group = try await store.replaceProvisionedGroup(
                id: id, name: wanted.name, externalID: wanted.externalID, members: wanted.members, audit: audit(context)
            )
        }
        guard let group else { throw SCIMError.notFound("no group \(id)") }
        applied()
        return Self.json(SCIMResources.group(group, base: base))
    }

    @Sendable func deleteGroup(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard try await store.deleteProvisionedGroup(id: id, audit: audit(context)) else { throw SCIMError.notFound("no group \(id)") }
        applied()
        return Response(status: .noContent)
    }
}
