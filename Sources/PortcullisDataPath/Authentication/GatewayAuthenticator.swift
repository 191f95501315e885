import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTokens
import Synchronization

/// Who a request is (SPEC §2, §3): the session cookie, or a bearer JWT from the IdP. Cached
/// sessions answer at once; a miss (or an entry older than `max_staleness`) reads the store.
/// When the store cannot be read, a session that cannot be re-checked is refused
/// (`session_unverifiable`): fail closed.
package final class GatewayAuthenticator: RequestAuthenticator {
    package let store: any CredentialStore
    package let cache: SessionCache
    private let settings: SessionConfiguration
    private let geoIP: any GeoIPResolver
    private let bearer: BearerTokenAuthenticator?
    private let apiTokens: APITokenAuthenticator?
    private let logger: Logger
    private let upstreamHeaders: @Sendable (AuthenticatedUser, Route) -> [(String, String)]
    /// The keys that sign the assertion among the upstream headers: a rotation moves
    /// ``credentialGeneration`` so no remembered answer hands on an assertion signed before it.
    private let signingKeys: AssertionKeyRing?
    /// How long a session lookup may take (`store.request_deadline`).
    private let deadline: StoreDeadline
    /// Bounds the lookups of sessions this instance has not seen; shared with the API token
    /// authenticator.
    package let lookups: CredentialLookupGate
    /// Session lookups under way, which later requests with the same cookie join.
    private let sessionLookups = LookupFlights<SessionLookup>()
    /// Told, off the request path and after the new address is written, when a live session's
    /// client address changes (the session risk signals); `nil` when nothing listens.
    private let onAddressChange: (@Sendable (SessionAddressChange) async -> Void)?
    /// Activity (last seen, last IP) is written at most this often per session.
    package static let activityInterval: TimeInterval = 60
    /// A change of client address is reported at once, but at most this often per session.
    package static let addressChangeInterval: TimeInterval = 5

    package init(
        store: any CredentialStore,
        cache: SessionCache,
        settings: SessionConfiguration,
        geoIP: any GeoIPResolver,
        bearer: BearerTokenAuthenticator?,
        apiTokens: APITokenAuthenticator? = nil,
        logger: Logger,
        upstreamHeaders: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)] = { user, _ in IdentityHeaders.basic(for: user) },
        signingKeys: AssertionKeyRing? = nil,
        deadline: StoreDeadline = .requestPath,
        lookups: CredentialLookupGate = CredentialLookupGate(),
        onAddressChange: (@Sendable (SessionAddressChange) async -> Void)? = nil
    ) {
        self.store = store
        self.cache = cache
        self.settings = settings
        self.geoIP = geoIP
        self.bearer = bearer
        self.apiTokens = apiTokens
        self.logger = logger
        self.upstreamHeaders = upstreamHeaders
        self.signingKeys = signingKeys
        self.deadline = deadline
        self.lookups = lookups
        self.onAddressChange = onAddressChange
    }

    /// The session cache's generation plus the signing keys': both only grow, so the sum moves
    /// whenever either does.
    package var credentialGeneration: UInt64 { cache.generation &+ (signingKeys?.generation ?? 0) }

    package func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> AuthenticationOutcome {
        let outcome = credentialOutcome(request, on: eventLoop)
        // A bearer credential the gateway reads never travels on, whichever credential decided
        // the request and whether it was accepted: an upstream that also honours IdP tokens must
        // not honour one the gateway refused or never looked at.
        return carriesGatewayBearer(request.headers) ? outcome.consumingAuthorization() : outcome
    }

    /// `Authorization: Bearer` with an API token, or with a JWT when bearer JWTs are configured.
    func carriesGatewayBearer(_ headers: HTTPHeaders) -> Bool {
        var carries = false
        for (name, value) in headers where RequestFraming.isExactly(name, "authorization") {
            HeaderTokens.forEach(value) { authorization in
                guard authorization.utf8.count > 7, HeaderTokens.equalIgnoringCase(authorization.prefix(7), "bearer ") else { return true }
                let token = authorization.dropFirst(7).drop { $0 == " " }
                if token.hasPrefix(APITokenRecord.secretPrefix), apiTokens != nil { carries = true }
                if bearer != nil, token.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2 { carries = true }
                return !carries
            }
            if carries { return true }
        }
        return false
    }

    private func credentialOutcome(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> AuthenticationOutcome {
        // Only a global API token may act as someone else; the API token authenticator checks.
        let actsAs = request.headers.contains(name: APITokenAuthenticator.actAsHeader)
        if actsAs, !Self.presentsAPIToken(request.headers) {
            return .resolved(Authentication(identity: .rejected(.actAsNotAllowed)))
        }
        if let cookie = CookieText.value(of: SessionCookie.name, in: request.headers) {
            return authenticateSession(cookie, request: request, on: eventLoop)
        }
        if let authorization = request.headers.first(name: "authorization") {
            guard authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
                return .resolved(Authentication(identity: .rejected(.invalidToken)))
            }
            let token = String(authorization.dropFirst(7).drop { $0 == " " })
            if token.hasPrefix(APITokenRecord.secretPrefix) {
                guard let apiTokens else { return .resolved(Authentication(identity: .rejected(.invalidToken))) }
                return apiTokens.authenticate(token, request: request, on: eventLoop, headers: upstreamHeaders)
            }
            guard let bearer else { return .resolved(Authentication(identity: .rejected(.invalidToken))) }
            return bearer.authenticate(token, request: request, on: eventLoop, headers: upstreamHeaders)
        }
        return .resolved(.anonymous)
    }

    /// `Authorization: Bearer pct_…` and no session cookie.
    static func presentsAPIToken(_ headers: HTTPHeaders) -> Bool {
        guard CookieText.value(of: SessionCookie.name, in: headers) == nil, let authorization = headers.first(name: "authorization"),
              authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return false }
        return authorization.dropFirst(7).drop { $0 == " " }.hasPrefix(APITokenRecord.secretPrefix)
    }

    // MARK: sessions

    private func authenticateSession(
        _ cookie: String, request: AuthenticationRequest, on eventLoop: any EventLoop, joined: Int = 0
    ) -> AuthenticationOutcome {
        guard let hash = SessionToken.hash(of: cookie) else {
            return .resolved(Authentication(identity: .rejected(.sessionExpired)))
        }
        let now = ContinuousClock.now
        if let entry = cache.freshEntry(hash, maxAge: settings.maxStaleness, now: now) {
            return .resolved(authentication(for: entry, hash: hash, request: request))
        }
        let key = Data(hash.bytes)
        // A lookup of this session under way: wait for its answer rather than read again.
        if let running = sessionLookups.current(key) {
            return answer(of: running, cookie: cookie, hash: hash, request: request, on: eventLoop, joined: joined + 1)
        }
        // A session this instance has not seen: a known miss or a forged id is answered at
        // once, and an untagged id's lookup needs a ticket (``CredentialLookupGate``). A known
        // one is read again freely.
        let ticket: CredentialLookupGate.Ticket?
        let unknown = cache.entry(hash) == nil
        if unknown {
            if lookups.isKnownMiss(key, now: now) {
                return .resolved(Authentication(identity: .rejected(.sessionExpired)))
            }
            switch lookups.admit(request.client, credential: cookie) {
            case .lookup(let admitted): ticket = admitted
            case .forged: return .resolved(Authentication(identity: .rejected(.sessionExpired)))
            case .busy: return .resolved(Authentication(identity: .rejected(.sessionUnverifiable)))
            }
        } else {
            ticket = nil
        }
        let lookups = self.lookups
        let before = cache.mark
        let (flight, started) = sessionLookups.start(key) { [self] in
            defer { if let ticket { lookups.release(ticket) } }
            return try await readSession(hash, key: key, unknown: unknown, before: before)
        }
        if !started, let ticket { lookups.release(ticket) }
        // The request that started the lookup takes its answer as it is; one that joined
        // another's (started meanwhile) counts as joining.
        return answer(of: flight, cookie: cookie, hash: hash, request: request, on: eventLoop, joined: started ? 0 : joined + 1)
    }

    /// One session lookup's answer, shared by every request that waits for it
    /// (``LookupFlights``), with where the cache stood when it started.
    struct SessionLookup: Sendable {
        var entry: SessionCache.Entry?
        var mark: SessionCache.Mark
    }

    /// Reads the session and keeps it in the cache (unless a sign-out landed meanwhile), or
    /// remembers that it does not exist. Throws when the store cannot answer in time.
    private func readSession(
        _ hash: SessionIDHash, key: Data, unknown: Bool, before: SessionCache.Mark
    ) async throws -> SessionLookup {
        let identity: SessionIdentity?
        do {
            identity = try await deadline.run { [store] in try await store.sessionIdentity(hash) }
        } catch {
            logger.warning("session cannot be re-checked: the store is unreachable", metadata: [
                "session": "\(hash)", "error": "\(error)",
            ])
            throw error
        }
        guard let identity else {
            // Evicting counts, and makes other lookups under way not keep what they read: only
            // when there is something to evict (not for every made-up cookie).
            if !unknown || cache.entry(hash) != nil { cache.evict(hash) }
            if unknown { lookups.rememberMiss(key) }
            return SessionLookup(entry: nil, mark: before)
        }
        let written = cache.entry(hash)?.activityWrittenAt ?? identity.session.lastSeenAt
        let entry = SessionCache.Entry(identity: identity, hash: hash, fetchedAt: .now, activityWrittenAt: written, version: before.version)
        cache.store(entry, for: hash, ifUnchangedSince: before)
        return SessionLookup(entry: entry, mark: before)
    }

    /// A request's answer from a lookup. One that joined a lookup already under way (`joined`:
    /// how many times this request has) uses its answer only when the policy version is the
    /// one the lookup started at and neither the session nor its user was evicted since (else
    /// the answer may predate a sign-out or a demotion the request came after): it asks again,
    /// once; a second such miss is refused as not checkable now.
    private func answer(
        of flight: Task<SessionLookup, any Error>, cookie: String, hash: SessionIDHash, request: AuthenticationRequest,
        on eventLoop: any EventLoop, joined: Int
    ) -> AuthenticationOutcome {
        .pending(eventLoop.makeFutureWithTask { [self] in
            let lookup: SessionLookup
            do {
                lookup = try await flight.value
            } catch {
                return Authentication(identity: .rejected(.sessionUnverifiable))
            }
            if joined > 0, !cache.isUnchanged(hash, userID: lookup.entry?.session.userID, since: lookup.mark) {
                guard joined < 2 else { return Authentication(identity: .rejected(.sessionUnverifiable)) }
                switch authenticateSession(cookie, request: request, on: eventLoop, joined: joined) {
                case .resolved(let authentication): return authentication
                case .pending(let future): return try await future.get()
                }
            }
            guard let entry = lookup.entry else { return Authentication(identity: .rejected(.sessionExpired)) }
            return authentication(for: entry, hash: hash, request: request)
        })
    }

    /// The answer of a cached session (``CachedSession``), with its idle expiry as of its last
    /// activity; not reused past `fetchedAt + max_staleness`.
    func authentication(for entry: SessionCache.Entry, hash: SessionIDHash, request: AuthenticationRequest) -> Authentication {
        let session = entry.session
        let user: CachedSession.User
        switch session.answer {
        case .rejected(let reason): return Authentication(identity: .rejected(reason))
        case .user(let cached): user = cached
        }
        let authenticated = AuthenticatedUser(
            userID: session.userID,
            email: user.email,
            displayName: user.displayName,
            role: user.role,
            permissions: user.permissions,
            method: .oidc,
            hasMFA: user.hasMFA,
            expiresAt: min(user.absoluteExpiresAt, entry.lastSeenAt.addingTimeInterval(settings.idleTimeout.secondsValue)),
            revokedAt: user.revokedAt,
            credentialID: user.credentialID,
            authenticatedAt: user.authenticatedAt
        )
        var reusableUntil: ContinuousClock.Instant?
        if user.revokedAt == nil, authenticated.expiresAt.map({ $0 > request.now }) ?? true,
           !reportAddressChange(hash, entry: entry, request: request),
           let activityDue = recordActivityIfDue(hash, request: request) {
            // Reused until the store must be asked again or the next activity write is due.
            let untilActivity = ContinuousClock.now.advanced(by: .seconds(max(0, activityDue.timeIntervalSince(request.now))))
            reusableUntil = min(entry.fetchedAt.advanced(by: settings.maxStaleness), untilActivity)
        }
        let headers = upstreamHeaders
        return Authentication(
            identity: .user(authenticated), upstreamHeaders: { route in headers(authenticated, route) }, reusableUntil: reusableUntil
        )
    }

    /// A request from another client address than the session's last: the new address is
    /// written at once, then the risk signals judge the move, both off the request path.
    /// Answers whether it took over the activity write.
    private func reportAddressChange(_ hash: SessionIDHash, entry: SessionCache.Entry, request: AuthenticationRequest) -> Bool {
        guard let onAddressChange, request.client != entry.lastIP else { return false }
        let location = geoIP.locate(request.client)
        guard let previous = cache.claimAddressChange(
            hash, client: request.client, location: location, now: request.now, interval: Self.addressChangeInterval
        ) else { return false }
        let change = SessionAddressChange(
            sessionIDHash: hash, userID: entry.session.userID, device: entry.session.device, previousAddress: previous.address,
            previousLocation: previous.location, address: request.client, location: location, at: request.now
        )
        let store = self.store
        let logger = self.logger
        Task {
            do {
                try await store.recordSessionActivity(hash, at: change.at, ip: change.address, location: change.location)
            } catch {
                logger.notice("could not record session activity", metadata: ["session": "\(hash)", "error": "\(error)"])
            }
            await onAddressChange(change)
        }
        return true
    }

    /// Last seen and last IP, written at most once a minute per session, off the request path.
    /// Answers when the next write is due (`nil`: unknown, the session is not cached).
    private func recordActivityIfDue(_ hash: SessionIDHash, request: AuthenticationRequest) -> Date? {
        let (claimed, nextDue) = cache.claimActivityWrite(hash, now: request.now, interval: Self.activityInterval)
        guard claimed else { return nextDue }
        let store = self.store
        let logger = self.logger
        let location = geoIP.locate(request.client)
        let client = request.client
        let now = request.now
        Task {
            do {
                try await store.recordSessionActivity(hash, at: now, ip: client, location: location)
            } catch {
                logger.notice("could not record session activity", metadata: ["session": "\(hash)", "error": "\(error)"])
            }
        }
        return nextDue
    }
}
