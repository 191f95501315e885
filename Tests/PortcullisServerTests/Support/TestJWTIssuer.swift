import Crypto
import CryptoExtras
import Foundation
import PortcullisCore

/// Makes compact JWTs by hand, signed (or not) however a test needs: valid RS256 and ES256
/// tokens, and every malformed or malicious variant.
struct TestJWTIssuer {
    enum Signing {
        case rs256
        case es256
        case hs256(key: [UInt8])
        case none
        case garbage
    }

    let rsa: _RSA.Signing.PrivateKey
    let ec = P256.Signing.PrivateKey()
    let rsaKeyID = "rsa-1"
    let ecKeyID = "ec-1"

    init() throws {
        rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    var rsaJWK: [String: JSONValue] {
        let primitives = try? rsa.publicKey.getKeyPrimitives()
        return [
            "kty": .string("RSA"), "kid": .string(rsaKeyID), "use": .string("sig"),
            "n": .string(primitives.map { Data($0.modulus).base64URLEncodedString() } ?? ""),
            "e": .string(primitives.map { Data($0.publicExponent).base64URLEncodedString() } ?? ""),
        ]
    }

    var ecJWK: [String: JSONValue] {
        let raw = ec.publicKey.rawRepresentation
        return [
            "kty": .string("EC"), "crv": .string("P-256"), "kid": .string(ecKeyID), "use": .string("sig"),
            "x": .string(Data(raw.prefix(32)).base64URLEncodedString()), "y": .string(Data(raw.suffix(32)).base64URLEncodedString()),
        ]
    }

    func jwks(_ keys: [[String: JSONValue]]? = nil) -> Data {
        let list = keys ?? [rsaJWK, ecJWK]
        return (try? JSONEncoder().encode(JSONValue.object(["keys": .array(list.map(JSONValue.object))]))) ?? Data()
    }

    var rsaPublicKeyPEM: String { rsa.publicKey.pemRepresentation }

    func token(header: [String: JSONValue], claims: [String: JSONValue], signing: Signing) throws -> String {
        let headerPart = try JSONEncoder().encode(JSONValue.object(header)).base64URLEncodedString()
        let claimsPart = try JSONEncoder().encode(JSONValue.object(claims)).base64URLEncodedString()
        let input = Data("\(headerPart).\(claimsPart)".utf8)
        let signature: Data
        switch signing {
        case .rs256:
            signature = try rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case .es256:
            signature = try ec.signature(for: input).rawRepresentation
        case .hs256(let key):
            signature = Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key)))
        case .none:
            signature = Data()
        case .garbage:
            signature = Data(repeating: 0x41, count: 64)
        }
        return "\(headerPart).\(claimsPart).\(signature.base64URLEncodedString())"
    }

    /// A token that should pass: RS256 by default.
    func valid(claims: [String: JSONValue], ec: Bool = false) throws -> String {
        try token(
            header: ["alg": .string(ec ? "ES256" : "RS256"), "kid": .string(ec ? ecKeyID : rsaKeyID), "typ": .string("JWT")],
            claims: claims, signing: ec ? .es256 : .rs256
        )
    }
}
