import Crypto
import Foundation
import JWTKit
import PortcullisCore

/// An ES256 key that signs JWTs and publishes itself as a JWK: for the development IdP's
/// tokens and for the upstream assertions.
package struct ES256SigningKey: Sendable {
    package let keyID: String
    package let privateKey: P256.Signing.PrivateKey
    private let keys: JWTKeyCollection

    package init(keyID: String, privateKey: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) async throws {
        self.keyID = keyID
        self.privateKey = privateKey
        let collection = JWTKeyCollection()
        try await collection.add(ecdsa: ES256PrivateKey(backing: privateKey), kid: JWKIdentifier(string: keyID))
        self.keys = collection
    }

    /// The package half, as a JWK with `alg` and `use` pinned.
    package var publicJWK: [String: JSONValue] {
        let raw = privateKey.publicKey.rawRepresentation
        return [
            "kty": .string("EC"), "crv": .string("P-256"), "use": .string("sig"), "alg": .string("ES256"),
            "kid": .string(keyID),
            "x": .string(Data(raw.prefix(32)).base64URLEncodedString()),
            "y": .string(Data(raw.suffix(32)).base64URLEncodedString()),
        ]
    }

    package func sign(_ claims: [String: JSONValue], type: String = "JWT") async throws -> String {
        var header = JWTHeader()
        header.typ = type
        header.kid = keyID
        return try await keys.sign(RawClaims(claims: claims), kid: JWKIdentifier(string: keyID), header: header)
    }

    /// A JWKS document for these keys.
    package static func jwks(_ keys: [ES256SigningKey]) -> Data {
        let document = JSONValue.object(["keys": .array(keys.map { .object($0.publicJWK) })])
        return (try? JSONEncoder().encode(document)) ?? Data("{\"keys\":[]}".utf8)
    }
}

extension RawClaims {
    init(claims: [String: JSONValue]) {
        self.claims = claims
    }
}
