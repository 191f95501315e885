import Foundation
import JWTKit
import Logging
import PortcullisCore
import Synchronization

/// The IdP's signing keys (its JWKS), cached, refreshed when a token names a key we do not
/// have, and guarded against two jwt-kit behaviours:
/// every key is added with `isDefault: false` (an unknown `kid` must not fall back to a default
/// key), and every key's `alg` is pinned before it is added (so one junk token cannot fix the
/// algorithm of a key for everyone). Keys whose algorithm cannot be pinned are refused.
package final class SigningKeySet: Sendable {
    private struct State: Sendable {
        var keys = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        var lastFetch: ContinuousClock.Instant?
        var loaded = false
    }

    private let state = Mutex(State())
    private let fetch: @Sendable () async throws -> Data
    private let refreshInterval: Duration
    private let retryInterval: Duration
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger

    /// Fetches are rate-limited at all times, so that tokens naming unknown keys, or any tokens
    /// while the IdP is down, cannot make the gateway hammer it:
    /// - Parameters:
    ///   - refreshInterval: at least this long between fetches once keys are loaded (a token
    ///     naming a key we do not have may mean the IdP rotated);
    ///   - retryInterval: at least this long between fetches while no keys could be loaded yet.
    ///   - clock: the time, for tests.
    package init(
        refreshInterval: Duration = .seconds(30),
        retryInterval: Duration = .seconds(5),
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        logger: Logger,
        fetch: @escaping @Sendable () async throws -> Data
    ) {
        self.fetch = fetch
        self.refreshInterval = refreshInterval
        self.retryInterval = retryInterval
        self.clock = clock
        self.logger = logger
    }

    /// The claims of a token whose header passed ``CompactJWS`` and whose signature verifies
    /// with the key its `kid` names. Claims are not checked here.
    package func verify(_ jws: CompactJWS) async throws(TokenRejection) -> [String: JSONValue] {
        if !state.withLock({ $0.loaded }) {
            try await refresh()
            guard state.withLock({ $0.loaded }) else { throw TokenRejection(.keysUnavailable) }
        }
        var (keys, algorithm) = lookup(jws.keyID)
        if algorithm == nil {
            // A key we have not seen: the IdP may have rotated. Refetch, rate-limited.
            try await refresh()
            (keys, algorithm) = lookup(jws.keyID)
        }
        guard let algorithm else { throw TokenRejection(.unknownKey, String((jws.keyID ?? "(none)").prefix(64))) }
        guard algorithm == jws.algorithm else {
            throw TokenRejection(.algorithmNotAllowed, "\(jws.algorithm) for a \(algorithm) key")
        }
        do {
            let payload = try await keys.verify(jws.token, as: RawClaims.self)
            return payload.claims
        } catch {
            throw TokenRejection(.badSignature)
        }
    }

    /// The collection and the pinned algorithm for a `kid`. A token without `kid` is accepted
    /// only when the IdP publishes exactly one key.
    private func lookup(_ kid: String?) -> (JWTKeyCollection, String?) {
        state.withLock { state in
            if let kid { return (state.keys, state.algorithms[kid]) }
            if state.algorithms.count == 1, let only = state.algorithms.first { return (state.keys, only.value) }
            return (state.keys, nil)
        }
    }

    /// Fetches the JWKS, unless the last attempt was too recent (``init(refreshInterval:retryInterval:clock:logger:fetch:)``).
    package func refresh() async throws(TokenRejection) {
        let now = clock()
        let allowed = state.withLock { state -> Bool in
            let interval = state.loaded ? refreshInterval : retryInterval
            if let last = state.lastFetch, now - last < interval { return false }
            state.lastFetch = now
            return true
        }
        guard allowed else { return }
        let data: Data
        do {
            data = try await fetch()
        } catch {
            logger.warning("cannot fetch the IdP's signing keys", metadata: ["error": "\(error)"])
            throw TokenRejection(.keysUnavailable)
        }
        do {
            let (collection, algorithms) = try await Self.build(from: data, logger: logger)
            state.withLock { state in
                state.keys = collection
                state.algorithms = algorithms
                state.loaded = true
            }
            logger.info("IdP signing keys loaded", metadata: ["keys": "\(algorithms.keys.sorted())"])
        } catch {
            logger.warning("the IdP's JWKS cannot be used", metadata: ["error": "\(error)"])
            throw TokenRejection(.keysUnavailable)
        }
    }

    /// Builds a key collection from a JWKS document, pinning each key's algorithm.
    static func build(from data: Data, logger: Logger) async throws -> (JWTKeyCollection, [String: String]) {
        guard data.count <= 1_048_576 else { throw TokenRejection(.keysUnavailable, "JWKS larger than 1 MiB") }
        let document = try JSONDecoder().decode(JWKSDocument.self, from: data)
        var usable: [(kid: String, algorithm: String, jwk: JWK)] = []
        for raw in document.keys.prefix(64) {
            guard case .object(let fields) = raw, let kid = fields["kid"]?.stringValue, !kid.isEmpty else { continue }
            if let use = fields["use"]?.stringValue, use != "sig" { continue }
            guard let algorithm = pinnedAlgorithm(fields) else {
                logger.notice("skipping an IdP key whose algorithm cannot be pinned", metadata: ["kid": "\(kid)"])
                continue
            }
            var pinned = fields
            pinned["alg"] = .string(algorithm)
            let json = String(decoding: try JSONEncoder().encode(JSONValue.object(pinned)), as: UTF8.self)
            do {
                usable.append((kid, algorithm, try JWK(json: json)))
            } catch {
                logger.notice("skipping an IdP key jwt-kit cannot use", metadata: ["kid": "\(kid)", "error": "\(error)"])
            }
        }
        // No default key, so an unknown kid can never fall back to one. The single exception is
        // an IdP with exactly one key, for tokens that carry no kid at all; an unknown kid is
        // still refused before jwt-kit sees it (``lookup``).
        let collection = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        for key in usable {
            do {
                try await collection.add(jwk: key.jwk, isDefault: usable.count == 1)
                algorithms[key.kid] = key.algorithm
            } catch {
                logger.notice("skipping an IdP key jwt-kit cannot use", metadata: ["kid": "\(key.kid)", "error": "\(error)"])
            }
        }
        return (collection, algorithms)
    }

    /// The key's own `alg` if allowed; otherwise the one algorithm its type allows:
    /// RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA.
    static func pinnedAlgorithm(_ fields: [String: JSONValue]) -> String? {
        if let declared = fields["alg"]?.stringValue {
            return CompactJWS.allowedAlgorithms.contains(declared) ? declared : nil
        }
        switch (fields["kty"]?.stringValue, fields["crv"]?.stringValue) {
        case ("RSA", _): return "RS256"
        case ("EC", "P-256"): return "ES256"
        case ("OKP", "Ed25519"): return "EdDSA"
        default: return nil
        }
    }
}

struct JWKSDocument: Decodable {
    let keys: [JSONValue]
}

/// Every claim of a token, for checking by ``TokenClaimsValidator`` with an explicit `now`.
struct RawClaims: JWTPayload {
    let claims: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        claims = try [String: JSONValue](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
