import Foundation
import PortcullisCore
import PortcullisTokens

/// A user's claims as the provider states them: the verified ID token, merged with what its
/// UserInfo endpoint answers for the access token (`identity.oidc.userinfo`). Many providers
/// put email, `email_verified` and groups only in UserInfo.
package struct ProviderClaims: Sendable {
    package struct Failure: Error, CustomStringConvertible, Sendable {
        /// A stable reason code for sign-in pages and logs.
        package let reason: String
        package let detail: String
        package var description: String { "\(reason): \(detail)" }
    }

    let provider: OIDCProviderClient
    let verifier: TokenVerifier
    let oidc: OIDCConfiguration

    package init(provider: OIDCProviderClient, verifier: TokenVerifier, oidc: OIDCConfiguration) {
        self.provider = provider
        self.verifier = verifier
        self.oidc = oidc
    }

    /// `claims` (from a verified ID token, or just `sub` after a refresh without one) with what
    /// UserInfo adds, when the mode asks for it. UserInfo's `sub` must be the same.
    package func merged(_ claims: [String: JSONValue], accessToken: String?, now: Date) async throws(Failure) -> [String: JSONValue] {
        switch oidc.userInfo {
        case .never: return claims
        case .auto where !TokenClaims.needsUserInfo(claims, names: oidc.claims, trustEmail: oidc.trustEmail): return claims
        case .auto, .always: break
        }
        guard let accessToken else { return claims }
        let answer: OIDCProviderClient.UserInfo?
        do {
            answer = try await provider.userInfo(accessToken: accessToken)
        } catch {
            throw Failure(reason: "userinfo_failed", detail: "\(error)")
        }
        let userInfo: [String: JSONValue]
        switch answer {
        case nil:
            return claims
        case .claims(let values)?:
            userInfo = values
        case .signed(let token)?:
            let validator = TokenClaimsValidator(
                issuer: oidc.issuer, audiences: [oidc.clientID], clockSkew: oidc.clockSkew.secondsValue, requireExpiry: false
            )
            do {
                userInfo = try await verifier.verify(token, validator: validator, now: now)
            } catch {
                throw Failure(reason: "userinfo_invalid", detail: "the signed UserInfo answer could not be verified: \(error)")
            }
        }
        guard let merged = TokenClaims.merging(claims, userInfo: userInfo) else {
            throw Failure(reason: "userinfo_subject_mismatch", detail: "UserInfo names another subject than the ID token")
        }
        return merged
    }
}
