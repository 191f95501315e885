import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    /// `GET /groups`: every IdP group with its members and role mapping (admins only).
    @Sendable func listGroups(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let groups = try await store.groups()
        return Self.json(AdminAPIModels.GroupList(
            groups: groups.map(AdminAPIModels.Group.init),
            mappedGroups: groups.filter { $0.group.roles != nil }.count,
            mappingLimit: GroupRoleMapping.limit
        ))
    }

    /// `GET /groups/{name}/roles`.
    @Sendable func groupRoles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.parameter("name", context)
        guard let group = try await store.group(named: name) else { throw AdminAPIError.notFound("group \(name)") }
        return Self.json(AdminAPIModels.Group(group))
    }

    /// `PUT /groups/{name}/roles {primary, secondary[]}`; an empty body, `null` or no roles
    /// removes the mapping. At most 1,000 groups may carry mappings.
    @Sendable func changeGroupRoles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.parameter("name", context)
        let desired = try await optionalBody(AdminAPIModels.Roles.self, from: request)?.assignment()
        let policyActor = actor.policyActor
        let result = try await store.changeGroupRoles(name: name, audit: actor.audit(at: dependencies.now())) { state in
            RoleChangePolicy.changeGroupMapping(
                actor: policyActor, group: name, current: state.group?.roles, desired: desired,
                mappedGroupCount: state.mappedGroupCount, holders: state.holders
            )
        }
        switch result {
        case nil:
            throw AdminAPIError.notFound("group \(name)")
        case .failure(let refusal)?:
            logger.notice("group mapping refused", metadata: ["actor": "\(actor.email)", "group": "\(name)", "reason": "\(refusal.code.rawValue)"])
            throw AdminAPIError.refused(refusal)
        case .success(let outcome)?:
            if outcome.before != outcome.after { await policyChanged() }
            guard let group = try await store.group(named: name) else { throw AdminAPIError.notFound("group \(name)") }
            return Self.json(AdminAPIModels.Group(group))
        }
    }
}
