import Foundation
import Hummingbird
import PortcullisCore

extension SCIMEndpoints {
    /// `GET /Users`, `GET /Groups` and their `.search`: filter, sort, page, select.
    func list(type: SCIMResourceType, query: SCIMListQuery) async throws -> Response {
        try query.filter?.validate(for: type)
        let page = query.page(try await candidates(type: type, filter: query.filter), type: type)
        let shown = page.resources.map { query.selection.apply(to: $0, type: type) }
        return Self.json(SCIMRepresentation.list(shown, total: page.total, startIndex: query.startIndex))
    }

    /// `POST /.search`: users and groups together. The filter must make sense for at least one
    /// type; attributes a type does not have are absent from its resources.
    func searchEverything(_ query: SCIMListQuery) async throws -> Response {
        let types = SCIMSchemaCatalog.resourceTypes
        if let filter = query.filter, !types.contains(where: { (try? filter.validate(for: $0)) != nil }) {
            try filter.validate(for: SCIMSchemaCatalog.userType)
        }
        var resources: [([String: JSONValue], SCIMResourceType)] = []
        for type in types {
            resources += try await candidates(type: type, filter: query.filter).map { ($0, type) }
        }
        let page = query.page(resources)
        let shown = page.resources.map { query.selection.apply(to: $0.0, type: $0.1) }
        return Self.json(SCIMRepresentation.list(shown, total: page.total, startIndex: query.startIndex))
    }

    /// The resources a filter has to look at. The lookups identity providers make before
    /// creating a resource (`userName eq`, `id eq`, `displayName eq`) read one row; anything
    /// else reads the directory, which is fine at the sizes a gateway's directory has.
    func candidates(type: SCIMResourceType, filter: SCIMFilter?) async throws -> [[String: JSONValue]] {
        if type == SCIMSchemaCatalog.userType {
            if case .compare(let path, .eq, .string(let value))? = filter, path.urn == nil, path.subAttribute == nil {
                if SCIMName.equal(path.attribute, "userName") {
                    guard let user = try await store.user(email: value) else { return [] }
                    return [try await userResource(user)]
                }
                if SCIMName.equal(path.attribute, "id") {
                    guard let user = try await store.user(id: value) else { return [] }
                    return [try await userResource(user)]
                }
            }
            return try await store.teammates(matching: TeammateQuery()).map { SCIMRepresentation.user($0.user, groups: $0.groups, base: base) }
        }
        if case .compare(let path, .eq, .string(let value))? = filter, path.urn == nil, path.subAttribute == nil, SCIMName.equal(path.attribute, "id") {
            guard let group = try await store.provisionedGroup(id: value) else { return [] }
            return [SCIMRepresentation.group(group, base: base)]
        }
        return try await store.provisionedGroups(offset: 0, limit: Int(Int32.max)).groups.map { SCIMRepresentation.group($0, base: base) }
    }
}
