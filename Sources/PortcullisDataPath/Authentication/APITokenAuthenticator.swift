import Crypto
import Foundation
import Logging
import NIOCore
import PortcullisCore
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

    private let store: any GatewayStore
    private let maxStaleness: Duration
    private let version: PolicyVersion
    private let logger: Logger
    private let known = Mutex<[Data: Known]>([:])
    static let capacity = 10_000
    static let useInterval: TimeInterval = 60

    package init(store: any GatewayStore, maxStaleness: Duration, version: PolicyVersion, logger: Logger) {
        self.store = store
        self.maxStaleness = maxStaleness
        self.version = version
        self.logger = logger
    }

    /// `pct_` and 43 base64url characters (256 random bits). Anything else is refused before any
    /// store read.
    package static func isWellFormed(_ secret: String) -> Bool {
        let bytes = Array(secret.utf8)
        guard bytes.count == APITokenSecret.length, secret.hasPrefix(APITokenRecord.secretPrefix) else { return false }
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
        if let entry = known.withLock({ $0[key] }), entry.version == currentVersion,
           ContinuousClock.now - entry.fetchedAt < maxStaleness {
            return .resolved(authentication(entry.identity, key: key, now: request.now, headers: headers))
        }
        return .pending(eventLoop.makeFutureWithTask { [self] in
            let identity: APITokenIdentity?
            do {
                identity = try await StoreDeadline.run { [store] in try await store.apiTokenIdentity(secretHash: Array(key)) }
            } catch {
                logger.warning("API token cannot be checked: the store is unreachable", metadata: ["error": "\(error)"])
                return Authentication(identity: .rejected(.sessionUnverifiable), consumedAuthorization: true)
            }
            guard let identity else {
                logger.info("unknown API token refused", metadata: ["client": "\(request.client)"])
                return Authentication(identity: .rejected(.invalidToken), consumedAuthorization: true)
            }
            known.withLock { entries in
                if entries.count >= Self.capacity, entries[key] == nil { entries.removeAll() }
                let written = entries[key]?.useWrittenAt ?? (identity.token.lastUsedAt ?? .distantPast)
                entries[key] = Known(identity: identity, fetchedAt: .now, version: currentVersion, useWrittenAt: written)
            }
            return authentication(identity, key: key, now: request.now, headers: headers)
        })
    }

    private func authentication(
        _ identity: APITokenIdentity, key: Data, now: Date, headers: @escaping @Sendable (AuthenticatedUser, Route) -> [(String, String)]
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
        recordUseIfDue(identity.token.id, key: key, now: now)
        let role = owner.effectiveRole
        let user = AuthenticatedUser(
            userID: owner.user.id, email: owner.user.email, displayName: owner.user.name, role: role,
            permissions: role.permissions(defaults: owner.defaults), method: .apiToken, hasMFA: false,
            expiresAt: identity.token.expiresAt, revokedAt: nil, credentialID: identity.token.id
        )
        return Authentication(identity: .user(user), consumedAuthorization: true, upstreamHeaders: { headers(user, $0) })
    }

    private func recordUseIfDue(_ id: String, key: Data, now: Date) {
        let due = known.withLock { entries -> Bool in
            guard var entry = entries[key], now.timeIntervalSince(entry.useWrittenAt) >= Self.useInterval else { return false }
            entry.useWrittenAt = now
            entries[key] = entry
            return true
        }
        guard due else { return }
        let store = self.store
        let logger = self.logger
        Task {
            do {
                try await store.recordAPITokenUse(id: id, at: now)
            } catch {
                logger.notice("could not record API token use", metadata: ["token": "\(id)", "error": "\(error)"])
            }
        }
    }
}

/// Making API token secrets: 256 random bits, base64url, after the `pct_` prefix.
package enum APITokenSecret {
    package static let length = APITokenRecord.secretPrefix.utf8.count + 43

    /// A new secret and the hash that is stored.
    package static func make() -> (secret: String, hash: [UInt8]) {
        let random = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let secret = APITokenRecord.secretPrefix + random.base64URLEncodedString()
        return (secret, Array(SHA256.hash(data: Data(secret.utf8))))
    }
}
