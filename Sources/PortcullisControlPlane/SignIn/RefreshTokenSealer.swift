import Crypto
import Foundation

/// Refresh tokens at rest (SPEC §2): AES-GCM under a key derived (HKDF-SHA256) from the
/// configured secret (`identity.oidc.refresh_token_key_file` or `_env`), bound to the user they
/// belong to, so that a sealed token copied to another user's row does not open.
package struct RefreshTokenSealer: Sendable {
    private let key: SymmetricKey

    /// At least 32 bytes of secret.
    package static let minimumSecretBytes = 32

    package init?(secret: String) {
        let material = Array(secret.utf8)
        guard material.count >= Self.minimumSecretBytes else { return nil }
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: material), salt: Data("portcullis".utf8),
            info: Data("refresh tokens v1".utf8), outputByteCount: 32
        )
    }

    package func seal(_ token: String, userID: String) -> [UInt8]? {
        guard let box = try? AES.GCM.seal(Data(token.utf8), using: key, authenticating: Data(userID.utf8)), let combined = box.combined else {
            return nil
        }
        return Array(combined)
    }

    /// `nil` when the bytes were not sealed with this key for this user.
    package func open(_ sealed: [UInt8], userID: String) -> String? {
        guard let box = try? AES.GCM.SealedBox(combined: Data(sealed)),
              let plain = try? AES.GCM.open(box, using: key, authenticating: Data(userID.utf8)) else { return nil }
        return String(data: plain, encoding: .utf8)
    }
}
