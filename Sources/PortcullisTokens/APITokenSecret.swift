import Crypto
import Foundation
import PortcullisCore

/// Making API token secrets: 256 random bits and their tag (``CredentialTags``), base64url,
/// after the `pct_` prefix.
package enum APITokenSecret {
    /// A tagged secret's length.
    package static let length = APITokenRecord.secretPrefix.utf8.count + CredentialTags.taggedLength
    /// The length of a secret made before tags.
    package static let untaggedLength = APITokenRecord.secretPrefix.utf8.count + CredentialTags.untaggedLength

    /// A new secret and the hash that is stored.
    package static func make(tags: CredentialTags) -> (secret: String, hash: [UInt8]) {
        let secret = APITokenRecord.secretPrefix + tags.make()
        return (secret, Array(SHA256.hash(data: Data(secret.utf8))))
    }
}
