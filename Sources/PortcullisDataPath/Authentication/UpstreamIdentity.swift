import Crypto
import Foundation
import Logging
import PortcullisCore
import PortcullisTokens
import Synchronization

/// What the upstream learns about a signed-in user (SPEC §5): `X-Portcullis-User`, `-Email`,
/// `-Role`, `-Roles` and `X-Portcullis-Assertion`, an ES256 JWT for the route's upstream
/// (`aud` = its origin) that lives 60 s. Signing costs tens of microseconds, so an assertion is
/// reused for up to 30 s for the same user, credential, delegation, upstream, key and policy
/// version.
package final class UpstreamIdentity: Sendable {
    struct CacheKey: Hashable, Sendable {
        var userID: String
        var credentialID: String?
        var method: AuthenticationMethod
        var audience: String
        var route: String
        var version: UInt64
        var kid: String
        /// The token acting as the user (act-as): its assertion carries an `act` claim.
        var actingToken: String?
    }

    /// What one identity sends one upstream: the identity headers and the assertion.
    struct Signed: Sendable {
        var headers: [(String, String)]
        var issuedAt: Date
    }

    package static let lifetime: TimeInterval = 60
    static let reuseFor: TimeInterval = 30
    static let capacity = 10_000

    private let keys: AssertionKeyRing
    private let issuer: String
    private let version: PolicyVersion
    private let logger: Logger
    private let cache = Mutex<[CacheKey: Signed]>([:])

    package init(keys: AssertionKeyRing, issuer: String, version: PolicyVersion, logger: Logger) {
        self.keys = keys
        self.issuer = issuer
        self.version = version
        self.logger = logger
    }

    /// The headers are computed once per identity, upstream and policy version and reused with
    /// their assertion for up to 30 s: every request of a signed-in user asks for them.
    package func headers(for user: AuthenticatedUser, route: Route, now: Date = Date()) -> [(String, String)] {
        guard let upstream = route.upstream else { return IdentityHeaders.basic(for: user) }
        guard let (kid, key) = keys.signingKey(at: now) else {
            logger.warning("no assertion signing key is loaded; the upstream gets no X-Portcullis-Assertion")
            return IdentityHeaders.basic(for: user)
        }
        let audience = upstream.description
        let cacheKey = CacheKey(userID: user.userID, credentialID: user.credentialID, method: user.method, audience: audience,
                                route: route.name, version: version.current, kid: kid, actingToken: user.delegation?.tokenID)
        if let signed = cache.withLock({ $0[cacheKey] }), now.timeIntervalSince(signed.issuedAt) < Self.reuseFor,
           now >= signed.issuedAt {
            return signed.headers
        }
        var headers = IdentityHeaders.basic(for: user)
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        guard let assertion = Self.assertion(for: user, issuer: issuer, audience: audience, route: route.name, issuedAt: issuedAt,
                                             kid: kid, key: key)
        else {
            logger.error("assertion signing failed")
            return headers
        }
        headers.append((IdentityHeaders.assertion, assertion))
        cache.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[cacheKey] = Signed(headers: headers, issuedAt: issuedAt)
        }
        return headers
    }

    static func assertion(
        for user: AuthenticatedUser, issuer: String, audience: String, route: String, issuedAt: Date, kid: String,
        key: P256.Signing.PrivateKey
    ) -> String? {
        var claims: [String: JSONValue] = [
            "iss": .string(issuer),
            "sub": .string(user.userID),
            "aud": .string(audience),
            "iat": .number(issuedAt.timeIntervalSince1970),
            "nbf": .number(issuedAt.timeIntervalSince1970 - 5),
            "exp": .number(issuedAt.timeIntervalSince1970 + Self.lifetime),
            "jti": .string(SessionToken.random(bytes: 12)),
            "email": .string(user.email),
            "role": .string(user.role.primary.rawValue),
            "roles": .array(user.role.secondary.map(\.rawValue).sorted().map(JSONValue.string)),
            "auth_method": .string(user.method.rawValue),
            "mfa": .bool(user.hasMFA),
            "route": .string(route),
        ]
        if let name = user.displayName { claims["name"] = .string(name) }
        if let delegation = user.delegation {
            // RFC 8693 §4.1: who acts on the subject's behalf.
            claims["act"] = .object([
                "sub": .string(delegation.ownerID), "email": .string(delegation.ownerEmail), "token": .string(delegation.tokenID),
            ])
        }
        return sign(claims, kid: kid, key: key)
    }

    /// A compact JWS (RFC 7515) with ES256: the signature is the raw 64-byte r‖s.
    static func sign(_ claims: [String: JSONValue], kid: String, key: P256.Signing.PrivateKey) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header: [String: String] = ["alg": "ES256", "kid": kid, "typ": "JWT"]
        guard let headerData = try? encoder.encode(header), let payload = try? encoder.encode(claims) else { return nil }
        let input = headerData.base64URLEncodedString() + "." + payload.base64URLEncodedString()
        guard let signature = try? key.signature(for: Data(input.utf8)) else { return nil }
        return input + "." + signature.rawRepresentation.base64URLEncodedString()
    }
}
