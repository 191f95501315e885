import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    /// `GET /groups`: every IdP group with its members and role mappings (admins only).
    @Sendable func listGroups(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let groups = try await store.groups()
        return Self.json(AdminAPIModels.GroupList(
            groups: groups.map(AdminAPIModels.Group.init),
            mappedGroups: groups.filter(\.group.isMapped).count,
            mappingLimit: GroupRoleMapping.limit
        ))
    }

    /// `GET /groups/{name}/roles`.
    @Sendable func groupRoles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.parameter("name", context)
        guard let group = try await store.group(named: name) else { throw AdminAPIError.notFound("group \(name)") }
        return Self.json(AdminAPIModels.Group(group))
    }

    /// `PUT /groups/{name}/roles {source, primary, secondary[]}`: the group's mapping for one
    /// source of membership (`scim` or `oidc`, required); no roles removes it. At most 1,000
    /// groups may carry mappings.
    @Sendable func changeGroupRoles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.parameter("name", context)
        guard let change = try await optionalBody(AdminAPIModels.MappingChange.self, from: request) else {
            throw AdminAPIError.badRequest(
                "the body names the source the mapping is for ({\"source\": \"scim\"} or \"oidc\") and its roles; "
                    + "a source with no roles removes that mapping",
                reason: "source_required"
            )
        }
        let source = try change.groupSource()
        let desired = try change.assignment()
        let policyActor = actor.policyActor
        let result = try await store.changeGroupRoles(name: name, source: source, audit: actor.audit(at: dependencies.now())) { state in
            RoleChangePolicy.changeGroupMapping(
                actor: policyActor, group: name, source: source, mappings: state.group?.mappings ?? [:], desired: desired,
                mappedGroupCount: state.mappedGroupCount, holders: state.holders
            )
        }
        switch result {
        case nil:
            throw AdminAPIError.notFound("group \(name)")
        case .failure(let refusal)?:
            logger.notice("group mapping refused", metadata: [
                "actor": "\(actor.email)", "group": "\(name)", "source": "\(source.rawValue)", "reason": "\(refusal.code.rawValue)",
            ])
            throw AdminAPIError.refused(refusal)
        case .success(let outcome)?:
            if outcome.before != outcome.after { await policyChanged() }
            guard let group = try await store.group(named: name) else { throw AdminAPIError.notFound("group \(name)") }
            return Self.json(AdminAPIModels.Group(group))
        }
    }
}
