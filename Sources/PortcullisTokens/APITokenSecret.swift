import Crypto
import Foundation
import PortcullisCore

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
