import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisTokens
import Synchronization

/// Portcullis API tokens (`Authorization: Bearer pct_…`, SPEC §2). Looked up by the SHA-256 of
/// the secret; a found token is remembered until `max_staleness` or the next policy change.
/// Last use is written at most once a minute per token.
package final class APITokenAuthenticator: Sendable {
    struct Known: Sendable {
        var identity: APITokenIdentity
        var fetchedAt: ContinuousClock.Instant
        var version: UInt64
        var useWrittenAt: Date
    }

    /// A user a `global` token acts as, read from the store.
    struct Target: Sendable {
        var identity: UserIdentity?
        var fetchedAt: ContinuousClock.Instant
        var version: UInt64
    }

    struct TargetKey: Hashable, Sendable {
        var token: Data
        var email: String
    }

    private let store: any CredentialStore
    private let maxStaleness: Duration
    private let version: PolicyVersion
    /// How long a token or act-as lookup may take (`store.request_deadline`).
    private let deadline: StoreDeadline
    /// Bounds the lookups of tokens this instance has not seen (shared with the sessions').
    private let lookups: CredentialLookupGate
    private let logger: Logger
    private let known = Mutex<[Data: Known]>([:])
    /// Token lookups under way, which later requests with the same token join.
    private let tokenLookups = LookupFlights<TokenLookup>()
    private let targets = Mutex<[TargetKey: Target]>([:])
    static let capacity = 10_000
    static let useInterval: TimeInterval = 60
    /// `X-Portcullis-Act-As: EMAIL` (SPEC §2): a `global` token acting as a user.
    package static let actAsHeader = "X-Portcullis-Act-As"

    package init(
        store: any CredentialStore, maxStaleness: Duration, version: PolicyVersion, deadline: StoreDeadline = .requestPath,
        lookups: CredentialLookupGate = CredentialLookupGate(), logger: Logger
    ) {
        self.lookups = lookups
        self.store = store
        self.maxStaleness = maxStaleness
        self.version = version
        self.deadline = deadline
        self.logger = logger
    }

    /// `pct_` and 64 base64url characters (256 random bits and their tag), or 43 (made before
    /// tags). Anything else is refused before any store read.
    package static func isWellFormed(_ secret: String) -> Bool {
        let bytes = Array(secret.utf8)
        guard bytes.count == APITokenSecret.length || bytes.count == APITokenSecret.untaggedLength,
              secret.hasPrefix(APITokenRecord.secretPrefix) else { return false }
        return bytes.dropFirst(APITokenRecord.secretPrefix.utf8.count).allSatisfy(CompactJWS.isBase64URL)
    }

    func authenticate(
        _ secret: String,
        request: AuthenticationRequest,
        on eventLoop: any EventLoop,
        headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)]
    ) -> AuthenticationOutcome {
        guard Self.isWellFormed(secret) else {
            return .resolved(Authentication(identity: .rejected(.invalidToken), consumedAuthorization: true))
        }
        let key = Data(SHA256.hash(data: Data(secret.utf8)))
        let currentVersion = version.current
        let actAs = request.headers[Self.actAsHeader]
        guard actAs.count <= 1, !(actAs.first?.contains(",") ?? false) else {
            return .resolved(Authentication(identity: .rejected(.actAsNotAllowed), consumedAuthorization: true))
        }
        if let email = actAs.first {
            return actingAs(email.trimmingCharacters(in: .whitespaces), key: key, secret: secret, request: request, on: eventLoop, headers: headers)
        }
        if let entry = known.withLock({ $0[key] }), entry.version == currentVersion,
           ContinuousClock.now - entry.fetchedAt < maxStaleness {
            return .resolved(authentication(entry.identity, key: key, now: request.now, headers: headers, fetchedAt: entry.fetchedAt))
        }
        return .pending(eventLoop.makeFutureWithTask { [self] in
            do {
                guard let (identity, fetchedAt) = try await tokenIdentity(key: key, secret: secret, request: request, version: currentVersion) else {
                    return Authentication(identity: .rejected(.invalidToken), consumedAuthorization: true)
                }
                return authentication(identity, key: key, now: request.now, headers: headers, fetchedAt: fetchedAt)
            } catch {
                return Authentication(identity: .rejected(.sessionUnverifiable), consumedAuthorization: true)
            }
        })
    }

    /// The token's record and owner, from the cache or the store, with when it was read from the
    /// store; `nil` for an unknown token. Throws when the store cannot be reached. Concurrent
    /// lookups of one token share one read (``LookupFlights``); `joined` counts how many times
    /// this request has joined another's.
    private func tokenIdentity(
        key: Data, secret: String, request: AuthenticationRequest, version currentVersion: UInt64, joined: Int = 0
    ) async throws(TokenLookupFailure) -> (APITokenIdentity, fetchedAt: ContinuousClock.Instant)? {
        if let entry = known.withLock({ $0[key] }), entry.version == currentVersion, ContinuousClock.now - entry.fetchedAt < maxStaleness {
            return (entry.identity, entry.fetchedAt)
        }
        if let running = tokenLookups.current(key) {
            return try await answer(of: running, key: key, secret: secret, request: request, version: currentVersion, joined: joined + 1)
        }
        // A token this instance has not seen: a known miss or a forged secret is answered at
        // once, and an untagged secret's lookup needs a ticket (``CredentialLookupGate``).
        var ticket: CredentialLookupGate.Ticket?
        let unknown = known.withLock { $0[key] == nil }
        if unknown {
            if lookups.isKnownMiss(key) { return nil }
            switch lookups.admit(request.client, credential: secret.dropFirst(APITokenRecord.secretPrefix.utf8.count)) {
            case .lookup(let admitted): ticket = admitted
            case .forged: return nil
            case .busy:
                logger.notice("API token lookup refused: too many lookups of unknown credentials", metadata: ["client": "\(request.client)"])
                throw TokenLookupFailure()
            }
        }
        let lookups = self.lookups
        let client = request.client
        let (flight, started) = tokenLookups.start(key) { [self, ticket] in
            defer { if let ticket { lookups.release(ticket) } }
            return try await readToken(key: key, client: client, unknown: unknown, version: currentVersion)
        }
        if !started, let ticket { lookups.release(ticket) }
        return try await answer(of: flight, key: key, secret: secret, request: request, version: currentVersion, joined: started ? 0 : joined + 1)
    }

    /// One token lookup's answer, shared by every request that waits for it, with the policy
    /// version it was read at.
    struct TokenLookup: Sendable {
        var found: (identity: APITokenIdentity, fetchedAt: ContinuousClock.Instant)?
        var version: UInt64
    }

    /// Reads the token and remembers it, or remembers that it does not exist.
    private func readToken(key: Data, client: IPAddress, unknown: Bool, version currentVersion: UInt64) async throws -> TokenLookup {
        let fetchedAt = ContinuousClock.now
        let identity: APITokenIdentity?
        do {
            identity = try await deadline.run { [store] in try await store.apiTokenIdentity(secretHash: Array(key)) }
        } catch {
            logger.warning("API token cannot be checked: the store is unreachable", metadata: ["error": "\(error)"])
            throw error
        }
        guard let identity else {
            logger.info("unknown API token refused", metadata: ["client": "\(client)"])
            if unknown { lookups.rememberMiss(key) }
            return TokenLookup(found: nil, version: currentVersion)
        }
        known.withLock { entries in
            if entries.count >= Self.capacity, entries[key] == nil { entries.removeAll() }
            let written = entries[key]?.useWrittenAt ?? (identity.token.lastUsedAt ?? .distantPast)
            entries[key] = Known(identity: identity, fetchedAt: fetchedAt, version: currentVersion, useWrittenAt: written)
        }
        return TokenLookup(found: (identity, fetchedAt), version: currentVersion)
    }

    /// A lookup's answer for one request. One that joined a lookup read at another policy
    /// version than its own (a revocation landed between) asks again, once; a second time it is
    /// refused as not checkable now.
    private func answer(
        of flight: Task<TokenLookup, any Error>, key: Data, secret: String, request: AuthenticationRequest, version currentVersion: UInt64,
        joined: Int
    ) async throws(TokenLookupFailure) -> (APITokenIdentity, fetchedAt: ContinuousClock.Instant)? {
        let lookup: TokenLookup
        do {
            lookup = try await flight.value
        } catch {
            throw TokenLookupFailure()
        }
        if joined > 0, lookup.version != currentVersion {
            guard joined < 2 else { throw TokenLookupFailure() }
            return try await tokenIdentity(key: key, secret: secret, request: request, version: currentVersion, joined: joined)
        }
        return lookup.found.map { ($0.identity, $0.fetchedAt) }
    }

    struct TokenLookupFailure: Error {}

    /// A `global` token naming a user in `X-Portcullis-Act-As`: the request runs with that
    /// user's effective role, carries the delegation, and is audited once (not again at the
    /// re-checks of a long response or tunnel); without its audit entry it is refused
    /// (`session_unverifiable`). Any other credential sending the header is refused
    /// (`act_as_not_allowed`).
    private func actingAs(
        _ email: String, key: Data, secret: String, request: AuthenticationRequest, on eventLoop: any EventLoop,
        headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)]
    ) -> AuthenticationOutcome {
        let currentVersion = version.current
        return .pending(eventLoop.makeFutureWithTask { [self] in
            let owner: APITokenIdentity
            do {
                guard let (found, _) = try await tokenIdentity(key: key, secret: secret, request: request, version: currentVersion) else {
                    return Authentication(identity: .rejected(.invalidToken), consumedAuthorization: true)
                }
                owner = found
            } catch {
                return Authentication(identity: .rejected(.sessionUnverifiable), consumedAuthorization: true)
            }
            // The token itself must be good before it may act as anyone.
            let own = authentication(owner, key: key, now: request.now, headers: headers, recordUse: false)
            guard case .user = own.identity else { return own }
            guard owner.token.scope == .global, owner.owner.permissions.contains(.apiTokensCreateGlobal) else {
                logger.notice("act-as refused: not a global token of a holder of api_tokens.create_global", metadata: [
                    "token": "\(owner.token.id)", "client": "\(request.client)",
                ])
                return Authentication(identity: .rejected(.actAsNotAllowed), consumedAuthorization: true)
            }
            let target: UserIdentity?
            do {
                target = email.isEmpty ? nil : try await self.target(email, key: key, version: currentVersion)
            } catch {
                return Authentication(identity: .rejected(.sessionUnverifiable), consumedAuthorization: true)
            }
            guard !email.isEmpty, let target, target.user.active else {
                return Authentication(identity: .rejected(.actAsUserUnknown), consumedAuthorization: true)
            }
            recordUseIfDue(owner.token.id, key: key, now: request.now)
            if request.purpose == .request {
                // No audit entry, no act-as: the request waits for the entry (for at most
                // store.request_deadline) and is refused without it.
                do {
                    try await recordActAs(owner, target: target, client: request.client, now: request.now)
                } catch {
                    return Authentication(identity: .rejected(.sessionUnverifiable), consumedAuthorization: true)
                }
            }
            let role = target.effectiveRole
            let user = AuthenticatedUser(
                userID: target.user.id, email: target.user.email, displayName: target.user.name, role: role,
                permissions: role.permissions(defaults: target.defaults), method: .apiToken, hasMFA: false,
                expiresAt: owner.token.expiresAt, revokedAt: nil, credentialID: owner.token.id,
                delegation: Delegation(tokenID: owner.token.id, ownerID: owner.owner.user.id, ownerEmail: owner.owner.user.email)
            )
            return Authentication(identity: .user(user), consumedAuthorization: true, upstreamHeaders: { headers(user, $0) })
        })
    }

    /// The user an act-as names, by email, re-read at `max_staleness` or on a policy change.
    private func target(_ email: String, key: Data, version currentVersion: UInt64) async throws -> UserIdentity? {
        let targetKey = TargetKey(token: key, email: EmailAddress.key(email))
        if let entry = targets.withLock({ $0[targetKey] }), entry.version == currentVersion, ContinuousClock.now - entry.fetchedAt < maxStaleness {
            return entry.identity
        }
        let identity = try await deadline.run { [store] () async throws -> UserIdentity? in
            guard email.utf8.count <= 320, let user = try await store.user(email: email) else { return nil }
            return try await store.userIdentity(userID: user.id)
        }
        targets.withLock { entries in
            if entries.count >= Self.capacity, entries[targetKey] == nil { entries.removeAll() }
            entries[targetKey] = Target(identity: identity, fetchedAt: .now, version: currentVersion)
        }
        return identity
    }

    /// Every exchange that acts as someone is audited and counted on the token before it goes
    /// on, within the store's deadline. Throws when the entry could not be written in time
    /// (the exchange is then refused). An entry whose write outlives the deadline may still
    /// land: an act-as may be audited and refused, never let through unaudited.
    private func recordActAs(_ owner: APITokenIdentity, target: UserIdentity, client: IPAddress, now: Date) async throws {
        let store = self.store
        let audit = AuditContext(
            actor: owner.owner.user.email, actorIsSuperAdmin: owner.owner.effectiveRole.primary == .superAdmin, sourceIP: client.description, at: now
        )
        let tokenID = owner.token.id
        let targetEmail = target.user.email
        let ownerEmail = owner.owner.user.email
        do {
            try await deadline.run {
                try await store.recordActAs(tokenID: tokenID, targetEmail: targetEmail, ownerEmail: ownerEmail, audit: audit)
            }
        } catch {
            logger.error("act-as refused: its audit entry could not be written", metadata: [
                "token": "\(tokenID)", "client": "\(client)", "error": "\(error)",
            ])
            throw error
        }
    }

    /// - Parameter fetchedAt: when the token was read from the store, for an answer that may be
    ///   reused (not past `max_staleness` after it, nor past the next last-use write); `nil`
    ///   for one that may not (act-as).
    private func authentication(
        _ identity: APITokenIdentity, key: Data, now: Date, headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)],
        recordUse: Bool = true, fetchedAt: ContinuousClock.Instant? = nil
    ) -> Authentication {
        let owner = identity.owner
        guard owner.user.active else {
            return Authentication(identity: .rejected(.userDeactivated), consumedAuthorization: true)
        }
        if identity.token.revokedAt != nil {
            return Authentication(identity: .rejected(.tokenRevoked), consumedAuthorization: true)
        }
        if let expiry = identity.token.expiresAt, expiry <= now {
            return Authentication(identity: .rejected(.tokenExpired), consumedAuthorization: true)
        }
        let useDue = recordUse ? recordUseIfDue(identity.token.id, key: key, now: now) : nil
        let role = owner.effectiveRole
        let user = AuthenticatedUser(
            userID: owner.user.id, email: owner.user.email, displayName: owner.user.name, role: role,
            permissions: role.permissions(defaults: owner.defaults), method: .apiToken, hasMFA: false,
            expiresAt: identity.token.expiresAt, revokedAt: nil, credentialID: identity.token.id
        )
        var reusableUntil: ContinuousClock.Instant?
        if let fetchedAt, let useDue {
            let untilUse = ContinuousClock.now.advanced(by: .seconds(max(0, useDue.timeIntervalSince(now))))
            reusableUntil = min(fetchedAt.advanced(by: maxStaleness), untilUse)
        }
        return Authentication(
            identity: .user(user), consumedAuthorization: true, upstreamHeaders: { headers(user, $0) }, reusableUntil: reusableUntil
        )
    }

    /// Writes the token's last use when it is due; answers when the next write is due (`nil`
    /// when the token is not cached).
    @discardableResult
    private func recordUseIfDue(_ id: String, key: Data, now: Date) -> Date? {
        let (due, nextDue) = known.withLock { entries -> (Bool, Date?) in
            guard var entry = entries[key] else { return (false, nil) }
            guard now.timeIntervalSince(entry.useWrittenAt) >= Self.useInterval else {
                return (false, entry.useWrittenAt.addingTimeInterval(Self.useInterval))
            }
            entry.useWrittenAt = now
            entries[key] = entry
            return (true, now.addingTimeInterval(Self.useInterval))
        }
        guard due else { return nextDue }
        let store = self.store
        let logger = self.logger
        Task {
            do {
                try await store.recordAPITokenUse(id: id, at: now)
            } catch {
                logger.notice("could not record API token use", metadata: ["token": "\(id)", "error": "\(error)"])
            }
        }
        return nextDue
    }
}
