import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    static let flaggedSessionsLimit = 500

    /// `GET /sessions[?flagged=true]`: live sessions across all users, with their flags;
    /// `flagged=true` keeps those with an open flag, the most recently flagged first. Needs
    /// `teammates.view`, as a teammate's sessions do.
    @Sendable func allSessions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let flaggedOnly: Bool
        switch request.uri.queryParameters["flagged"].map(String.init) {
        case nil, "false": flaggedOnly = false
        case "true": flaggedOnly = true
        case let other?:
            throw AdminAPIError.badRequest("flagged must be true or false, not \"\(other.prefix(20))\"", reason: "invalid_query")
        }
        let now = dependencies.now()
        let idle = dependencies.runtime.configuration.sessions.idleTimeout
        var listed: [AdminAPIModels.UserSession] = []
        // Owners are read only where they decide something: open flags shown to a caller who
        // is not a super admin (a super admin's session's flags need one).
        var owners: [String: UserIdentity?] = [:]
        func owner(of session: SessionRecord, flags: [SessionFlag]) async throws -> UserIdentity? {
            guard !actor.isSuperAdmin, flags.contains(where: \.isOpen) else { return nil }
            if let known = owners[session.userID] { return known }
            let identity = try await store.userIdentity(userID: session.userID)
            owners[session.userID] = identity
            return identity
        }
        if flaggedOnly {
            for flagged in try await store.flaggedSessions(now: now, limit: Self.flaggedSessionsLimit)
            where flagged.session.isActive(at: now, idleTimeout: idle) {
                let owner = try await owner(of: flagged.session, flags: flagged.flags)
                listed.append(AdminAPIModels.UserSession(
                    email: flagged.email, name: flagged.name,
                    session: sessionModel(flagged.session, flags: flagged.flags, idle: idle, for: actor, owner: owner)
                ))
            }
        } else {
            var users: [String: UserRecord?] = [:]
            var flagsByUser: [String: [SessionIDHash: [SessionFlag]]] = [:]
            for session in try await store.activeSessions(now: now, limit: Self.flaggedSessionsLimit)
            where session.isActive(at: now, idleTimeout: idle) {
                if users[session.userID] == nil {
                    users[session.userID] = try await store.user(id: session.userID)
                    flagsByUser[session.userID] = Dictionary(grouping: try await store.sessionFlags(userID: session.userID), by: \.sessionIDHash)
                }
                guard let user = users[session.userID] ?? nil else { continue }
                let flags = flagsByUser[session.userID]?[session.idHash] ?? []
                let owner = try await owner(of: session, flags: flags)
                listed.append(AdminAPIModels.UserSession(
                    email: user.email, name: user.name,
                    session: sessionModel(session, flags: flags, idle: idle, for: actor, owner: owner)
                ))
            }
        }
        return Self.json(AdminAPIModels.UserSessionList(sessions: listed))
    }

    /// `POST /sessions/flags/{id}/dismiss`: the flag stops counting (audited); a session that
    /// waited for a step-up only for it is usable again. Needs `teammates.sign_out_sessions`,
    /// the permission that acts on others' sessions; a flag on a super admin's session needs a
    /// super admin (403 `super_admin_protected`, nothing written or audited).
    @Sendable func dismissFlag(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let id = try Self.parameter("id", context)
        guard id.utf8.count <= 64, id.allSatisfy({ $0.isHexDigit }) else {
            throw AdminAPIError.badRequest("the flag id in the path is malformed")
        }
        let actorIsSuperAdmin = actor.isSuperAdmin
        let flag: SessionFlag
        switch try await store.dismissSessionFlag(id: id, audit: actor.audit(at: dependencies.now()), decide: { state in
            SessionFlagDismissal.decide(actorIsSuperAdmin: actorIsSuperAdmin, state)
        }) {
        case nil:
            throw AdminAPIError.notFound("flag \(id)")
        case .failure(let refusal)?:
            logger.notice("session flag dismissal refused", metadata: [
                "actor": "\(actor.email)", "flag": "\(id)", "reason": "\(refusal.code.rawValue)",
            ])
            throw AdminAPIError.refused(refusal)
        case .success(let dismissed)?:
            flag = dismissed
        }
        // This instance reads the session again at its next request (PostgreSQL tells the others).
        dependencies.sessions.cache.evict(flag.sessionIDHash)
        logger.notice("session flag dismissed", metadata: [
            "actor": "\(actor.email)", "flag": "\(id)", "kind": "\(flag.kind.rawValue)", "session": "\(flag.sessionIDHash)",
        ])
        return Self.json(AdminAPIModels.Flag(flag))
    }
}
