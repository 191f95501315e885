import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PortcullisCore

/// What the admin API reads and changes: the directory and its administration, sessions and
/// their flags, tokens, greenlists, settings and the audit log.
package typealias AdminAPIStore = AdministrationStore & DirectoryStore & IdentityStore & SessionStore & SessionRiskStore
    & APITokenStore & GreenlistStore & SettingsStore & AuditStore

/// The admin API under `/_portcullis/api/v1/` (SPEC §6): JSON, each endpoint guarded by its
/// permission from SPEC §1.3, usable with the session cookie (with a CSRF token), bearer JWTs
/// and API tokens. Roles are read afresh from the store for every call; every change is written
/// with its audit entry and applies to the very next request on this and (by broadcast) every
/// other instance.
package final class AdminAPI: Sendable {
    /// What changed, for other instances.
    package enum Change: Sendable {
        /// Roles, mappings, default member permissions, flags or tokens.
        case policy
        /// Greenlists or the tenant greenlist.
        case network
    }

    package struct Dependencies: Sendable {
        package var store: any AdminAPIStore
        package var sessions: SessionService
        package var runtime: any ActivePolicy
        package var network: any StoredGreenlists
        /// Rebuilds the data path's policy after a greenlist change.
        package var refreshPolicy: @Sendable () throws -> Void
        package var keys: any AssertionKeyPublisher
        package var csrfKey: SymmetricKey
        package var publicOrigin: String
        /// "Sync now", when refresh tokens are kept.
        package var identitySync: IdentitySync?
        package var logger: Logger
        /// Tells other instances (LISTEN/NOTIFY); this instance has already applied it.
        package var broadcast: @Sendable (Change) async -> Void
        package var now: @Sendable () -> Date
        /// How long the caller's lookup and a read may wait on the store (`store.request_deadline`).
        package var deadline: StoreDeadline

        package init(
            store: any AdminAPIStore, sessions: SessionService, runtime: any ActivePolicy, network: any StoredGreenlists,
            refreshPolicy: @escaping @Sendable () throws -> Void, keys: any AssertionKeyPublisher, csrfKey: SymmetricKey,
            publicOrigin: String, identitySync: IdentitySync? = nil, logger: Logger, broadcast: @escaping @Sendable (Change) async -> Void = { _ in },
            now: @escaping @Sendable () -> Date = { Date() }, deadline: StoreDeadline = .requestPath
        ) {
            self.deadline = deadline
            self.store = store
            self.sessions = sessions
            self.runtime = runtime
            self.network = network
            self.refreshPolicy = refreshPolicy
            self.keys = keys
            self.csrfKey = csrfKey
            self.publicOrigin = publicOrigin
            self.identitySync = identitySync
            self.logger = logger
            self.broadcast = broadcast
            self.now = now
        }
    }

    let dependencies: Dependencies
    var store: any AdminAPIStore { dependencies.store }
    var logger: Logger { dependencies.logger }
    static let pageSize = 50
    static let maximumBody = 1_048_576

    package init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    /// Registers ``routes`` (the table of every endpoint with what it needs) and the JWKS.
    package func register(on router: Router<ControlPlaneRequestContext>) {
        let api = router.group("_portcullis/api/v1")
        for route in Self.routes {
            let handler = route.handler(self)
            api.on(RouterPath(route.path), method: route.method) { request, context in
                await self.respond(request, context, access: route.access, readDeadline: route.readDeadline, handler)
            }
        }
        router.get("_portcullis/jwks.json") { _, _ in self.jwks() }
    }

    // MARK: - the caller

    /// The caller, with roles read afresh from the store.
    struct Actor: Sendable {
        var identity: UserIdentity
        var caller: ControlPlaneCaller
        var role: EffectiveRole
        var permissions: PermissionSet
        var address: IPAddress

        var email: String { identity.user.email }
        var isSuperAdmin: Bool { role.primary == .superAdmin }

        func require(_ permission: Permission) throws(AdminAPIError) {
            guard permissions.contains(permission) else { throw .permissionRequired(permission) }
        }

        /// What a route needs (``AdminRoute/Access``).
        func check(_ access: AdminRoute.Access) throws(AdminAPIError) {
            switch access {
            case .signedIn:
                return
            case .permission(let permission):
                try require(permission)
            case .superAdmin(let doing):
                guard isSuperAdmin else {
                    throw AdminAPIError(status: .forbidden, reason: ReasonCode.roleRequired.rawValue, message: "\(doing) needs super_admin")
                }
            }
        }

        var policyActor: RoleChangePolicy.Actor {
            RoleChangePolicy.Actor(email: email, role: role, permissions: permissions)
        }

        /// Who the audit log names: the user, or the owner of the token acting as them.
        func audit(at now: Date) -> AuditContext {
            let name = caller.delegatedBy.map { "\($0) as \(email)" } ?? email
            return AuditContext(actor: name, actorIsSuperAdmin: isSuperAdmin, sourceIP: address.description, at: now)
        }
    }

    typealias Handler = @Sendable (Request, ControlPlaneRequestContext, Actor) async throws -> Response

    /// Resolves the caller, checks CSRF for cookie sessions, then what the route needs, runs the
    /// handler and turns every failure into a JSON answer with a reason.
    ///
    /// The caller's lookup waits on the store for `store.request_deadline` at most (then 503
    /// `session_unverifiable`), and so does a `GET` or `HEAD` (then 503 `store_unavailable`)
    /// unless `readDeadline` is off. Changes are not cut short: a write that has begun is
    /// the database's to finish or roll back.
    func respond(
        _ request: Request, _ context: ControlPlaneRequestContext, access: AdminRoute.Access, readDeadline: Bool = true,
        _ handler: @escaping Handler
    ) async -> Response {
        let deadline = dependencies.deadline
        do {
            let actor: Actor
            do {
                actor = try await deadline.run { try await self.actor(request, context) }
            } catch let exceeded as StoreDeadline.Exceeded {
                logger.warning("admin API: the caller cannot be checked", metadata: ["error": "\(exceeded)", "path": "\(request.uri.path)"])
                throw AdminAPIError.unauthenticated(.sessionUnverifiable)
            }
            let isRead = request.method == .get || request.method == .head
            if !isRead {
                try checkCSRF(request, actor: actor)
            }
            try checkSignIn(actor, changes: !isRead)
            try actor.check(access)
            guard isRead, readDeadline else { return try await handler(request, context, actor) }
            return try await deadline.run { try await handler(request, context, actor) }
        } catch let exceeded as StoreDeadline.Exceeded {
            logger.error("admin API: the store did not answer", metadata: ["error": "\(exceeded)", "path": "\(request.uri.path)"])
            return Self.json(.storeUnavailable)
        } catch let error as AdminAPIError {
            return Self.json(error)
        } catch let error as StoreError {
            logger.error("admin API: the store failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.json(.storeUnavailable)
        } catch {
            logger.error("admin API failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.json(AdminAPIError(status: .internalServerError, reason: "internal_error", message: "the request failed"))
        }
    }

    func actor(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Actor {
        guard let caller = context.caller else {
            throw AdminAPIError.unauthenticated(context.callerRejection ?? .loginRequired)
        }
        guard let identity = try await store.userIdentity(userID: caller.userID) else {
            throw AdminAPIError.unauthenticated(.invalidToken)
        }
        guard identity.user.active else { throw AdminAPIError.unauthenticated(.userDeactivated) }
        let role = identity.effectiveRole
        return Actor(
            identity: identity, caller: caller, role: role, permissions: role.permissions(defaults: identity.defaults),
            address: context.clientAddress
        )
    }

    /// `admin.require_mfa` and `admin.max_auth_age`: every call by a person (a session or a
    /// bearer JWT) needs a sign-in that proved a second factor, and a call that changes
    /// something needs one at most `max_auth_age` old. The refusal (401) names the login that
    /// satisfies it (back to the console; the console itself returns to the page it was on).
    /// API tokens are not people's sign-ins: they are minted through these checks and revoked by
    /// an admin.
    func checkSignIn(_ actor: Actor, changes: Bool) throws(AdminAPIError) {
        guard actor.caller.method != .apiToken else { return }
        let admin = dependencies.runtime.configuration.admin
        let page = "/_portcullis/console"
        if admin.requireMFA, !actor.caller.hasMFA {
            throw .signInRequired(.mfaRequired, login: "/_portcullis/login?" + FormBody.encode([("rd", page), ("mfa", "1")]))
        }
        if changes, let age = admin.maxAuthAge {
            let fresh = actor.caller.authenticatedAt.map { dependencies.now().timeIntervalSince($0) <= age.secondsValue } ?? false
            if !fresh {
                throw .signInRequired(.reauthenticationRequired, login: "/_portcullis/login?" + FormBody.encode([("rd", page), ("reauth", "1")]))
            }
        }
    }

    /// Cookie sessions are ambient credentials: a state-changing call must carry the session's
    /// CSRF token and must not come from another site. Bearer JWTs and API tokens are not sent
    /// by browsers on their own, so they need neither.
    func checkCSRF(_ request: Request, actor: Actor) throws(AdminAPIError) {
        guard actor.caller.method == .oidc else { return }
        if let origin = request.headers[.origin], origin != dependencies.publicOrigin { throw .crossOrigin }
        if let site = request.headers[.secFetchSite], site != "same-origin", site != "none" { throw .crossOrigin }
        guard let presented = request.headers[.csrfToken], let expected = csrfToken(for: actor.caller),
              ConstantTime.equal(presented, expected) else { throw .csrf }
    }

    /// HMAC of the session: the same for the session's life, useless for any other session.
    func csrfToken(for caller: ControlPlaneCaller) -> String? {
        guard caller.method == .oidc, let session = caller.credentialID else { return nil }
        let code = HMAC<SHA256>.authenticationCode(for: Data("csrf:\(session)".utf8), using: dependencies.csrfKey)
        return Data(code).base64URLEncodedString()
    }

    // MARK: - JSON

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        ControlPlanePages.securityHeaders(&headers)
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ error: AdminAPIError) -> Response {
        var body = ["error": error.error, "reason": error.reason, "message": error.message]
        if let role = error.role { body["role"] = role }
        if let login = error.login { body["login"] = login }
        var response = json(body, status: error.status)
        response.headers[.portcullisReason] = error.reason
        return response
    }

    /// The request body as `T`: at most 1 MiB, JSON with snake_case keys (or, for maps whose
    /// keys are data such as permission names, keys as they are).
    func decode<T: Decodable>(_ type: T.Type, from request: Request, convertingKeys: Bool = true) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumBody)
        } catch {
            throw AdminAPIError(status: .contentTooLarge, reason: "body_too_large", message: "the request body is larger than 1 MiB")
        }
        let decoder = JSONDecoder()
        if convertingKeys { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw AdminAPIError.badRequest(Self.describe(error), reason: "invalid_body")
        }
    }

    /// Where a body went wrong, without echoing it whole.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(type), found null"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            let location = path(context.codingPath)
            return location.isEmpty ? "the body is not valid JSON" : "\(location): \(context.debugDescription.prefix(200))"
        @unknown default: return "the body could not be read"
        }
    }

    /// A path parameter, percent-decoded.
    static func parameter(_ name: String, _ context: ControlPlaneRequestContext) throws(AdminAPIError) -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty, value.utf8.count <= 320 else {
            throw .badRequest("the \(name) in the path is missing or malformed")
        }
        return value
    }

    /// The user a path names, by email.
    func teammate(named email: String) async throws -> UserIdentity {
        guard let user = try await store.user(email: email), let identity = try await store.userIdentity(userID: user.id) else {
            throw AdminAPIError.notFound("teammate \(email)")
        }
        return identity
    }

    /// After a change to roles, mappings, settings or tokens: every cache reads again.
    func policyChanged() async {
        dependencies.sessions.cache.policyDidChange()
        await dependencies.broadcast(.policy)
    }

    // MARK: - JWKS

    func jwks() -> Response {
        var headers: HTTPFields = [.contentType: "application/jwk-set+json", .cacheControl: "public, max-age=60"]
        headers[.contentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: dependencies.keys.jwks)))
    }
}
