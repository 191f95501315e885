import Foundation
import PortcullisCore

/// Verifies a compact JWT from the IdP: header rules, signature with a pinned key, then the
/// registered claims with an explicit `now`.
package struct TokenVerifier: Sendable {
    package let keys: SigningKeySet
    package let maximumBytes: Int

    package init(keys: SigningKeySet, maximumBytes: Int) {
        self.keys = keys
        self.maximumBytes = maximumBytes
    }

    package func verify(
        _ token: String,
        validator: TokenClaimsValidator,
        now: Date,
        nonce: String? = nil
    ) async throws(TokenRejection) -> [String: JSONValue] {
        let jws = try CompactJWS(token, maximumBytes: maximumBytes)
        let claims = try await keys.verify(jws)
        if case .failure(let failure) = validator.validate(claims, now: now, nonce: nonce) {
            throw TokenRejection(.claims, failure.description)
        }
        return claims
    }
}
