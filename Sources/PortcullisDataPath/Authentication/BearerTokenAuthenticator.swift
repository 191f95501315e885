import Crypto
import Foundation
import Logging
import NIOCore
import PortcullisCore
import PortcullisTokens
import Synchronization

/// Bearer JWTs from the same IdP, for API clients on routes with `allow_bearer` (SPEC §2).
/// A verified token is remembered by its hash until it expires (bounded), so a busy client
/// costs one signature check, not one per request; its user is re-read at `max_staleness`.
package final class BearerTokenAuthenticator: Sendable {
    struct Verified: Sendable {
        var claims: [String: JSONValue]
        var expiresAt: Date
        var issuedAt: Date
        var identity: UserIdentity
        var fetchedAt: ContinuousClock.Instant
        var version: UInt64
    }

    private let verifier: TokenVerifier
    private let validator: TokenClaimsValidator
    private let store: any CredentialStore
    private let mfaMethods: Set<String>
    private let mfaACRValues: Set<String>
    private let maxStaleness: Duration
    private let version: PolicyVersion
    /// How long the user lookup may take (`store.request_deadline`).
    private let deadline: StoreDeadline
    private let logger: Logger
    private let verified = Mutex<[Data: Verified]>([:])
    static let capacity = 10_000

    /// Moves on every policy change: verified tokens are read again then.
    package var generation: UInt64 { version.current }

    package init(
        verifier: TokenVerifier,
        issuer: String,
        audiences: [String],
        clockSkew: Duration,
        store: any CredentialStore,
        oidc: OIDCConfiguration,
        maxStaleness: Duration,
        version: PolicyVersion,
        deadline: StoreDeadline = .requestPath,
        logger: Logger
    ) {
        self.verifier = verifier
        self.validator = TokenClaimsValidator(issuer: issuer, audiences: audiences, clockSkew: clockSkew.secondsValue)
        self.store = store
        self.mfaMethods = oidc.mfaMethods
        self.mfaACRValues = oidc.mfaACRValues
        self.maxStaleness = maxStaleness
        self.version = version
        self.deadline = deadline
        self.logger = logger
    }

    func authenticate(
        _ token: String,
        request: AuthenticationRequest,
        on eventLoop: any EventLoop,
        headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)]
    ) -> AuthenticationOutcome {
        let key = Data(SHA256.hash(data: Data(token.utf8)))
        let currentVersion = version.current
        if let known = verified.withLock({ $0[key] }), known.version == currentVersion,
           ContinuousClock.now - known.fetchedAt < maxStaleness {
            return .resolved(authentication(known, now: request.now, headers: headers))
        }
        return .pending(eventLoop.makeFutureWithTask { [self] in
            let claims: [String: JSONValue]
            do {
                claims = try await verifier.verify(token, validator: validator, now: request.now)
            } catch {
                logger.info("bearer token refused", metadata: ["reason": "\(error)", "client": "\(request.client)"])
                return Authentication(identity: .rejected((error as? TokenRejection)?.reason ?? .invalidToken))
            }
            guard let subject = TokenClaims.subject(claims) else {
                return Authentication(identity: .rejected(.invalidToken))
            }
            let identity: UserIdentity
            do {
                // Bearer JWTs never create or link users: the subject must have signed in
                // through SSO (or been provisioned and signed in) before.
                guard let known = try await deadline.run({ [store] in try await store.userIdentity(subject: subject) }) else {
                    logger.info("bearer token for an unknown subject refused", metadata: ["client": "\(request.client)"])
                    return Authentication(identity: .rejected(.userUnknown), consumedAuthorization: true)
                }
                identity = known
            } catch {
                logger.warning("bearer token cannot be checked: the store is unreachable", metadata: ["error": "\(error)"])
                return Authentication(identity: .rejected(.sessionUnverifiable))
            }
            let record = Verified(
                claims: claims,
                expiresAt: Date(timeIntervalSince1970: claims["exp"]?.numberValue ?? request.now.timeIntervalSince1970),
                issuedAt: Date(timeIntervalSince1970: claims["iat"]?.numberValue ?? 0),
                identity: identity,
                fetchedAt: ContinuousClock.now,
                version: currentVersion
            )
            remember(record, key: key, now: request.now)
            return authentication(record, now: request.now, headers: headers)
        })
    }

    private func remember(_ record: Verified, key: Data, now: Date) {
        verified.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= Self.capacity { entries.removeAll() }
            }
            entries[key] = record
        }
    }

    private func authentication(_ record: Verified, now: Date, headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)]) -> Authentication {
        let user = record.identity.user
        guard user.active else { return Authentication(identity: .rejected(.userDeactivated), consumedAuthorization: true) }
        // "Sign out of all sessions" sets not-before: tokens issued earlier are refused.
        var revokedAt: Date?
        if let notBefore = user.notBefore, record.issuedAt < notBefore { revokedAt = notBefore }
        let role = record.identity.effectiveRole
        let authenticated = AuthenticatedUser(
            userID: user.id, email: user.email, displayName: user.name, role: role,
            permissions: role.permissions(defaults: record.identity.defaults), method: .bearer,
            hasMFA: TokenClaims.provesMFA(record.claims, mfaMethods: mfaMethods, mfaACRValues: mfaACRValues),
            expiresAt: record.expiresAt, revokedAt: revokedAt,
            authenticatedAt: record.claims["auth_time"]?.numberValue.flatMap { $0.isFinite && $0 > 0 ? Date(timeIntervalSince1970: $0) : nil }
        )
        return Authentication(
            identity: .user(authenticated), consumedAuthorization: true, upstreamHeaders: { headers(authenticated, $0) },
            reusableUntil: revokedAt == nil ? record.fetchedAt.advanced(by: maxStaleness) : nil
        )
    }
}
