import Foundation
import PortcullisCore

/// A compact JWS (`header.payload.signature`) checked before any signature work: size, shape,
/// the algorithm allow-list, and the header fields that are always refused (SPEC §2).
package struct CompactJWS: Sendable {
    /// RS256, PS256, ES256 and EdDSA only. Never `none`, never HMAC.
    package static let allowedAlgorithms: Set<String> = ["RS256", "PS256", "ES256", "EdDSA"]
    /// Keys or key locations in the header are never trusted.
    static let forbiddenHeaderFields = ["jwk", "jku", "x5u", "x5c"]

    package let token: String
    package let algorithm: String
    package let keyID: String?
    package let header: [String: JSONValue]

    package init(_ token: String, maximumBytes: Int) throws(TokenRejection) {
        guard token.utf8.count <= maximumBytes else { throw TokenRejection(.tooLarge, "\(token.utf8.count) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw TokenRejection(.malformed, "expected three base64url parts")
        }
        for part in parts where !part.utf8.allSatisfy(Self.isBase64URL) {
            throw TokenRejection(.malformed, "not base64url")
        }
        guard let headerData = Data(base64URLEncoded: String(parts[0])),
              let header = try? JSONDecoder().decode([String: JSONValue].self, from: headerData)
        else {
            throw TokenRejection(.malformed, "header is not a JSON object")
        }
        guard let algorithm = header["alg"]?.stringValue else { throw TokenRejection(.malformed, "no alg") }
        guard Self.allowedAlgorithms.contains(algorithm) else { throw TokenRejection(.algorithmNotAllowed, algorithm.prefix(16).description) }
        for field in Self.forbiddenHeaderFields where header[field] != nil {
            throw TokenRejection(.embeddedKey, field)
        }
        // No extension is understood, so any `crit` must be refused (RFC 7515 §4.1.11).
        if header["crit"] != nil { throw TokenRejection(.criticalHeader) }
        if let typ = header["typ"]?.stringValue, !["JWT", "at+jwt", "logout+jwt", "application/jwt"].contains(typ) {
            throw TokenRejection(.malformed, "typ \(typ.prefix(32))")
        }
        let kid = header["kid"]
        if let kid, kid.stringValue == nil { throw TokenRejection(.malformed, "kid is not a string") }
        self.token = token
        self.algorithm = algorithm
        self.keyID = kid?.stringValue
        self.header = header
    }

    /// A byte of the base64url alphabet (RFC 4648 §5).
    package static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}
