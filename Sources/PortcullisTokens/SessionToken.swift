import Crypto
import Foundation
import PortcullisCore

/// Session ids: 256 random bits and their tag (``CredentialTags``), base64url in the cookie,
/// only their SHA-256 stored.
package enum SessionToken {
    /// A new random id and its hash.
    package static func make(tags: CredentialTags) -> (token: String, hash: SessionIDHash) {
        let token = tags.make()
        // A SHA-256 digest is always the 32 bytes a hash holds.
        return (token, digest(token)!)
    }

    /// The hash of a cookie value, or `nil` when it is not one of ours (wrong shape or size):
    /// a tagged id, or one made before tags (43 characters).
    package static func hash(of token: some StringProtocol) -> SessionIDHash? {
        let count = token.utf8.count
        guard count == CredentialTags.taggedLength || count == CredentialTags.untaggedLength,
              token.utf8.allSatisfy(CompactJWS.isBase64URL) else { return nil }
        return digest(token)
    }

    private static func digest(_ token: some StringProtocol) -> SessionIDHash? {
        SessionIDHash(bytes: Array(SHA256.hash(data: Data(token.utf8))))
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
