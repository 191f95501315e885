import Crypto
import Foundation
import PortcullisCore

/// Session ids: 256 random bits, base64url in the cookie, only their SHA-256 stored.
package enum SessionToken {
    /// A new random id and its hash.
    package static func make() -> (token: String, hash: SessionIDHash) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Data(bytes).base64URLEncodedString()
        return (token, hash(of: token)!)
    }

    /// The hash of a cookie value, or `nil` when it is not one of ours (wrong shape or size).
    package static func hash(of token: some StringProtocol) -> SessionIDHash? {
        guard token.utf8.count == 43, token.utf8.allSatisfy(CompactJWS.isBase64URL) else { return nil }
        return SessionIDHash(bytes: Array(SHA256.hash(data: Data(token.utf8))))
    }

    /// Random URL-safe text for `state`, `nonce` and PKCE verifiers.
    package static func random(bytes count: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64URLEncodedString()
    }

    /// The PKCE S256 challenge for a verifier (RFC 7636 §4.2).
    package static func pkceChallenge(for verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }
}
