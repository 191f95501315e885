import Foundation
import Logging
import PortcullisCore
import PortcullisTokens

/// What signing in and out reads and writes: sessions, the user a login names, one-time values
/// (login state, logout tokens), a stepped-up session's flags, and sign-out everywhere.
package typealias SignInStore = SessionStore & DirectoryStore & OneTimeValueStore & SessionRiskStore & AdministrationStore

/// Creates and ends sessions: the store write, the local cache, and (through `onRevoked`) the
/// broadcast to other instances.
package final class SessionService: Sendable {
    package let store: any SignInStore
    package let cache: any CredentialInvalidation
    private let settings: SessionConfiguration
    private let geoIP: any GeoIPResolver
    private let logger: Logger
    /// Tags new session ids and API token secrets (the store's shared key, the same on every
    /// instance).
    package let credentialTags: CredentialTags
    /// Bounds the sign-outs anyone can ask for by cookie (``signOut(cookie:client:now:)``), as
    /// the data path bounds lookups; shared with it. `nil`: unbounded (tools and tests).
    private let lookups: CredentialLookupGate?
    /// Called with revoked sessions and users, for broadcasting to other instances.
    private let onRevoked: @Sendable (_ sessions: [SessionIDHash], _ userIDs: [String]) async -> Void

    package init(
        store: any SignInStore,
        cache: any CredentialInvalidation,
        settings: SessionConfiguration,
        geoIP: any GeoIPResolver,
        credentialTags: CredentialTags,
        lookups: CredentialLookupGate? = nil,
        logger: Logger,
        onRevoked: @escaping @Sendable ([SessionIDHash], [String]) async -> Void = { _, _ in }
    ) {
        self.lookups = lookups
        self.store = store
        self.cache = cache
        self.settings = settings
        self.geoIP = geoIP
        self.credentialTags = credentialTags
        self.logger = logger
        self.onRevoked = onRevoked
    }

    /// A new session for a login: a fresh 256-bit id every time (no fixation).
    package func create(
        user: UserRecord, client: IPAddress, userAgent: String?, method: AuthenticationMethod,
        idpSessionID: String?, amr: [String], acr: String?, mfa: Bool, authenticatedAt: Date? = nil, now: Date
    ) async throws -> (token: String, record: SessionRecord) {
        let (token, hash) = SessionToken.make(tags: credentialTags)
        let location = geoIP.locate(client)
        let agent = String((userAgent ?? "").prefix(UserAgentParser.maximumLength))
        let record = SessionRecord(
            idHash: hash, userID: user.id, createdAt: now, lastSeenAt: now,
            absoluteExpiresAt: now.addingTimeInterval(settings.absoluteTimeout.secondsValue),
            createdIP: client, lastIP: client, createdLocation: location, lastLocation: location,
            userAgent: agent, device: UserAgentParser.parse(agent), authMethod: method,
            idpSessionID: idpSessionID.map { String($0.prefix(255)) }, amr: Array(amr.prefix(16)), acr: acr, mfa: mfa,
            authenticatedAt: authenticatedAt.map { min($0, now) }
        )
        try await store.insertSession(record)
        logger.info("session created", metadata: [
            "user": "\(user.email)", "session": "\(hash)", "client": "\(client)", "location": "\(location.summary)",
            "device": "\(record.device.browser) on \(record.device.os)",
        ])
        return (token, record)
    }

    @discardableResult
    package func revoke(_ hash: SessionIDHash, by actor: String, reason: String, now: Date) async throws -> Bool {
        let revoked = try await store.revokeSession(hash, at: now, by: actor, reason: reason)
        cache.evict(hash)
        if revoked { await onRevoked([hash], []) }
        return revoked
    }

    /// What a sign-out by cookie did.
    package enum SignOut: Sendable, Equatable {
        /// The session was live and is now revoked.
        case signedOut
        /// Nothing to sign out: no such session, signed out already, or a cookie no gateway
        /// made (a wrong tag), which costs no store write.
        case nothing
        /// Too many sign-outs of unknown sessions at once: not recorded; the caller is told to
        /// try again.
        case busy
    }

    /// `/logout` with the session's own cookie. Anyone can send one with any cookie, and each is
    /// a write that waits for the store's write lock while it holds a pool connection: so a
    /// sign-out is bounded as a lookup of the same cookie is (``CredentialLookupGate``). A
    /// forged tag or a session the store was just found not to have costs nothing; past the
    /// bounds the sign-out is refused (``SignOut/busy``), never silently dropped. Only a session
    /// that was live is evicted from this instance's cache.
    package func signOut(cookie: String, client: IPAddress, now: Date) async throws -> SignOut {
        guard let hash = SessionToken.hash(of: cookie) else { return .nothing }
        var ticket: CredentialLookupGate.Ticket?
        let key = Data(hash.bytes)
        if let lookups {
            if lookups.isKnownMiss(key) { return .nothing }
            switch lookups.admit(client, credential: cookie) {
            case .lookup(let admitted): ticket = admitted
            case .forged: return .nothing
            case .busy: return .busy
            }
        }
        defer { if let ticket { lookups?.release(ticket) } }
        let revoked = try await store.revokeSession(hash, at: now, by: "user", reason: "logout")
        guard revoked else {
            lookups?.rememberMiss(key)
            return .nothing
        }
        cache.evict(hash)
        await onRevoked([hash], [])
        return .signedOut
    }

    /// "Sign out of all sessions": every session, every bearer JWT issued before now and, when
    /// asked, every API token; written with its audit entry, then dropped from this instance's
    /// caches and broadcast to the others.
    package func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int) {
        let result = try await store.signOutEverywhere(userID: userID, includeAPITokens: includeAPITokens, reason: reason, audit: audit)
        cache.evict(userID: userID)
        for hash in result.sessions { cache.evict(hash) }
        // Cached bearer JWTs and API tokens are read again (their not-before and revocation).
        cache.policyDidChange()
        await onRevoked(result.sessions, [userID])
        logger.info("all sessions of a user revoked", metadata: [
            "user_id": "\(userID)", "sessions": "\(result.sessions.count)", "tokens": "\(result.tokens)", "by": "\(audit.actor)",
        ])
        return result
    }

    package func revoke(idpSessionID: String, userID: String?, reason: String, now: Date) async throws -> [SessionIDHash] {
        let revoked = try await store.revokeSessions(idpSessionID: idpSessionID, userID: userID, at: now, reason: reason)
        for hash in revoked { cache.evict(hash) }
        if !revoked.isEmpty { await onRevoked(revoked, []) }
        return revoked
    }
}
