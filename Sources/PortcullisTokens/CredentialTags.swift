import Crypto
import Foundation
import PortcullisCore

/// Session ids and API token secrets carry a keyed tag after their random part, so that one
/// somebody made up is refused without a store read (issue 21 item 5): only a credential the
/// gateway made can cost a lookup outside the overall bound of ``CredentialLookupGate``.
///
/// The key is a shared secret in the store (``secretName``), the same on every instance. It
/// authenticates nothing: the store still decides whether a credential exists. Someone who
/// reads the key from the database can only make lookups that the per-client bound for tagged
/// credentials still limits. Credentials made before tags existed (``Shape/untagged``) stay valid and are looked
/// up under the overall bound.
package struct CredentialTags: Sendable {
    /// The store's shared secret that holds the key.
    package static let secretName = "credential-tag-key"
    static let randomBytes = 32
    static let tagBytes = 16
    /// The base64url length of the random part and its tag (48 bytes).
    package static let taggedLength = 64
    /// The base64url length of a credential made before tags (32 random bytes).
    package static let untaggedLength = 43

    private let key: SymmetricKey

    package init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// A new key for ``secretName``.
    package static func newKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// 256 random bits and their tag, base64url (``taggedLength`` characters).
    package func make() -> String {
        var bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        bytes.append(contentsOf: tag(bytes))
        return bytes.base64URLEncodedString()
    }

    package enum Shape: Sendable, Equatable {
        /// Random bits and the right tag: made by a gateway that holds this key.
        case tagged
        /// Made before tags existed; only the store can tell.
        case untagged
        /// The length of a tagged credential with a wrong tag, or not base64url: never ours.
        case forged
    }

    /// What `text` (the base64url part of a credential, after any prefix) is.
    package func shape(of text: some StringProtocol) -> Shape {
        let count = text.utf8.count
        if count == Self.untaggedLength { return .untagged }
        guard count == Self.taggedLength, text.utf8.allSatisfy(CompactJWS.isBase64URL),
              let bytes = Data(base64URLEncoded: String(text)), bytes.count == Self.randomBytes + Self.tagBytes
        else { return .forged }
        let random = bytes.prefix(Self.randomBytes)
        let expected = tag(random)
        return ConstantTime.equal(expected, Array(bytes.suffix(Self.tagBytes))) ? .tagged : .forged
    }

    private func tag(_ random: some DataProtocol) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: random, using: key).prefix(Self.tagBytes))
    }
}
