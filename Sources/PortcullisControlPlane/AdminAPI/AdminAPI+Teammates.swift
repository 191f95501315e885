import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    /// `GET /me`: the caller's own role and permissions, without group sources (SPEC §1.5).
    @Sendable func me(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        Self.json(AdminAPIModels.Me(
            email: actor.email, name: actor.identity.user.name, primaryRole: actor.role.primary.rawValue,
            secondaryRoles: actor.role.secondary.map(\.rawValue).sorted(), permissions: actor.permissions.sorted.map(\.rawValue),
            authMethod: actor.caller.method.rawValue, mfa: actor.caller.hasMFA, csrfToken: csrfToken(for: actor.caller)
        ))
    }

    /// `GET /teammates?query=&department=&role=&page=`.
    @Sendable func listTeammates(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let parameters = request.uri.queryParameters
        let query = parameters["query"].map(String.init)
        let department = parameters["department"].map(String.init)
        var page = 1
        if let text = parameters["page"] {
            guard let number = Int(text), number >= 1, number <= 1_000_000 else {
                throw AdminAPIError.badRequest("page must be a whole number from 1", reason: "invalid_page")
            }
            page = number
        }
        var roleFilter: RoleName?
        if let name = parameters["role"].map(String.init), !name.isEmpty {
            if let primary = PrimaryRole(rawValue: name) {
                roleFilter = .primary(primary)
            } else if let secondary = SecondaryRole(rawValue: name) {
                roleFilter = .secondary(secondary)
            } else {
                throw AdminAPIError.unknownRole(name)
            }
        }
        if (query?.utf8.count ?? 0) > 256 || (department?.utf8.count ?? 0) > 256 {
            throw AdminAPIError.badRequest("query and department are at most 256 bytes")
        }
        var matches = try await store.teammates(matching: TeammateQuery(text: query, department: department))
        if let roleFilter {
            matches = matches.filter { $0.effectiveRole.holds(roleFilter) }
        }
        let start = (page - 1) * Self.pageSize
        let slice = start < matches.count ? matches[start..<min(start + Self.pageSize, matches.count)] : []
        return Self.json(AdminAPIModels.TeammatePage(
            teammates: slice.map(AdminAPIModels.Teammate.init), page: page, pageSize: Self.pageSize, total: matches.count
        ))
    }

    /// `GET /teammates/{email}`: the effective role with where each part comes from.
    @Sendable func teammate(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let identity = try await teammate(named: try Self.parameter("email", context))
        return Self.json(detail(identity, for: actor))
    }

    func detail(_ identity: UserIdentity, for actor: Actor) -> AdminAPIModels.TeammateDetail {
        // Group names are for admins only (SPEC §1.5); teammates.view already implies admin.
        let seesGroups = actor.permissions.contains(.groupsView)
        let options = RoleChangePolicy.options(
            actor: actor.policyActor,
            target: RoleChangePolicy.UserState(
                email: identity.user.email, direct: identity.user.directRoles, groups: identity.groups, flags: identity.flags
            )
        )
        return AdminAPIModels.TeammateDetail(
            teammate: AdminAPIModels.Teammate(identity),
            directRoles: AdminAPIModels.Roles(identity.user.directRoles),
            effectiveRole: AdminAPIModels.EffectiveRoleBody(identity.effectiveRole, defaults: identity.defaults, withSources: seesGroups),
            groups: seesGroups ? identity.groups.map(\.name) : [],
            roleOptions: options.map(AdminAPIModels.RoleOptionBody.init),
            sync: dependencies.identitySync != nil
                ? .init(available: true)
                : .init(available: false, reason: Self.syncUnavailable)
        )
    }

    /// `PUT /teammates/{email}/roles {primary, secondary[]}`: the role the user should end up
    /// with, under every rule of SPEC §1.4.
    @Sendable func changeRoles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let email = try Self.parameter("email", context)
        let desired = try await decode(AdminAPIModels.Roles.self, from: request).assignment()
        guard let user = try await store.user(email: email) else { throw AdminAPIError.notFound("teammate \(email)") }
        let policyActor = actor.policyActor
        let result = try await store.changeUserRoles(userID: user.id, audit: actor.audit(at: dependencies.now())) { state in
            guard let target = state.user else {
                return .failure(RoleChangeRefusal(code: .permissionRequired, message: "the teammate vanished"))
            }
            return RoleChangePolicy.changeUserRoles(
                actor: policyActor,
                target: RoleChangePolicy.UserState(
                    email: target.user.email, direct: target.user.directRoles, groups: target.groups, flags: target.flags
                ),
                desired: desired,
                holders: state.holders
            )
        }
        switch result {
        case nil:
            throw AdminAPIError.notFound("teammate \(email)")
        case .failure(let refusal)?:
            logger.notice("role change refused", metadata: [
                "actor": "\(actor.email)", "target": "\(email)", "reason": "\(refusal.code.rawValue)",
            ])
            throw AdminAPIError.refused(refusal)
        case .success(let outcome)?:
            if outcome.before != outcome.after { await policyChanged() }
            logger.info("roles changed", metadata: ["actor": "\(actor.email)", "target": "\(email)"])
            return Self.json(detail(try await teammate(named: email), for: actor))
        }
    }

    /// `GET /teammates/{email}/sessions`: each active session's start, address, place, device.
    @Sendable func sessionsOfTeammate(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let identity = try await teammate(named: try Self.parameter("email", context))
        return Self.json(try await sessionList(identity, for: actor))
    }

    /// `GET /me/sessions`: anyone's own sessions.
    @Sendable func mySessions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        Self.json(try await sessionList(actor.identity, for: actor))
    }

    /// `POST /me/sessions/sign-out-others`: ends every other session of the caller.
    @Sendable func signOutMyOtherSessions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let now = dependencies.now()
        var revoked = 0
        for session in try await store.activeSessions(userID: actor.identity.user.id, now: now)
        where session.idHash.hex != actor.caller.credentialID {
            if try await dependencies.sessions.revoke(session.idHash, by: actor.email, reason: "signed out by the user from another session", now: now) {
                revoked += 1
            }
        }
        logger.info("signed out of other sessions", metadata: ["user": "\(actor.email)", "sessions": "\(revoked)"])
        return Self.json(AdminAPIModels.SignOutOthersResult(revokedSessions: revoked))
    }

    func sessionList(_ identity: UserIdentity, for actor: Actor) async throws -> AdminAPIModels.SessionList {
        let now = dependencies.now()
        let idle = dependencies.runtime.configuration.sessions.idleTimeout
        let notBefore = identity.user.notBefore
        let sessions = try await store.activeSessions(userID: identity.user.id, now: now)
            .filter { session in
                session.isActive(at: now, idleTimeout: idle) && (notBefore.map { session.createdAt >= $0 } ?? true)
            }
        let flags = Dictionary(grouping: try await store.sessionFlags(userID: identity.user.id), by: \.sessionIDHash)
        return AdminAPIModels.SessionList(email: identity.user.email, sessions: sessions.map { session in
            sessionModel(session, flags: flags[session.idHash] ?? [], idle: idle, for: actor, owner: identity)
        })
    }

    /// `owner` (when known) decides whether the caller may dismiss the session's open flags
    /// (``SessionFlagDismissal``): the console hides the button when not, and says why.
    func sessionModel(
        _ session: SessionRecord, flags: [SessionFlag], idle: Duration, for actor: Actor, owner: UserIdentity?
    ) -> AdminAPIModels.Session {
        let open = flags.first(where: \.isOpen)
        let refusal = open.flatMap { SessionFlagDismissal.decide(actorIsSuperAdmin: actor.isSuperAdmin, .init(flag: $0, owner: owner)) }
        return AdminAPIModels.Session(
            id: String(session.idHash.hex.prefix(12)), createdAt: session.createdAt, lastSeenAt: session.lastSeenAt,
            expiresAt: session.expiresAt(idleTimeout: idle), ip: session.lastIP.description,
            location: AdminAPIModels.Location(session.lastLocation, address: session.lastIP), createdIP: session.createdIP.description,
            createdLocation: AdminAPIModels.Location(session.createdLocation, address: session.createdIP),
            device: AdminAPIModels.Device(browser: session.device.browser, os: session.device.os, type: session.device.type.rawValue),
            userAgent: session.userAgent, authMethod: session.authMethod.rawValue, mfa: session.mfa,
            current: actor.caller.credentialID == session.idHash.hex,
            flags: flags.sorted { $0.raisedAt > $1.raisedAt }.map(AdminAPIModels.Flag.init),
            stepUpRequired: session.stepUpRequiredAt != nil,
            dismissRefused: refusal?.code.rawValue
        )
    }

    /// `POST /teammates/{email}/sessions/sign-out-all {include_api_tokens}`.
    @Sendable func signOutAll(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let identity = try await teammate(named: try Self.parameter("email", context))
        let body = try await optionalBody(AdminAPIModels.SignOutRequest.self, from: request)
        let reason = String((body?.reason ?? "signed out by an admin").prefix(200))
        let result = try await dependencies.sessions.signOutEverywhere(
            userID: identity.user.id, includeAPITokens: body?.includeAPITokens ?? false, reason: reason,
            audit: actor.audit(at: dependencies.now())
        )
        await dependencies.broadcast(.policy)
        logger.notice("signed out of all sessions", metadata: [
            "actor": "\(actor.email)", "target": "\(identity.user.email)", "sessions": "\(result.sessions.count)", "tokens": "\(result.tokens)",
        ])
        return Self.json(AdminAPIModels.SignOutResult(revokedSessions: result.sessions.count, revokedTokens: result.tokens))
    }

    /// A body that may be absent or empty.
    func optionalBody<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T? {
        if let length = request.headers[.contentLength], length == "0" { return nil }
        if request.headers[.contentLength] == nil, request.headers[.transferEncoding] == nil { return nil }
        return try await decode(type, from: request)
    }
}
