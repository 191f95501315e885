import Foundation
import PortcullisCore
import PortcullisTokens
import PortcullisTestSupport
import Synchronization
import Testing
import PortcullisDataPath

@Suite("JOSE: what tokens are refused")
struct TokenVerifierTests {
    let issuer: TestJWTIssuer
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let validator = TokenClaimsValidator(issuer: "https://idp.example.com", audiences: ["portcullis"], authorizedParty: "portcullis", clockSkew: 60)
    let counter = FetchCounter()

    final class FetchCounter: Sendable {
        let value = Atomic<Int>(0)
    }

    init() throws {
        issuer = try TestJWTIssuer()
    }

    var claims: [String: JSONValue] {
        ["iss": .string("https://idp.example.com"), "sub": .string("u1"), "aud": .string("portcullis"),
         "exp": .number(1_800_000_300), "iat": .number(1_799_999_990), "nonce": .string("n1")]
    }

    func verifier(jwks: Data? = nil) -> TokenVerifier {
        let data = jwks ?? issuer.jwks()
        let counter = self.counter
        let keys = SigningKeySet(refreshInterval: .seconds(30), logger: LogRecorder().logger()) {
            counter.value.wrappingAdd(1, ordering: .relaxed)
            return data
        }
        return TokenVerifier(keys: keys, maximumBytes: 16_384)
    }

    func rejection(_ token: String, nonce: String? = "n1", using verifier: TokenVerifier? = nil) async -> TokenRejection.Code? {
        do {
            _ = try await (verifier ?? self.verifier()).verify(token, validator: validator, now: now, nonce: nonce)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("valid RS256 and ES256 tokens pass")
    func valid() async throws {
        #expect(await rejection(try issuer.valid(claims: claims)) == nil)
        #expect(await rejection(try issuer.valid(claims: claims, ec: true)) == nil)
    }

    @Test("alg none, in any spelling, with or without a signature", arguments: ["none", "None", "NONE", "nOnE", "none "])
    func algNone(_ spelling: String) async throws {
        for signing in [TestJWTIssuer.Signing.none, .garbage] {
            let token = try issuer.token(header: ["alg": .string(spelling), "kid": .string(issuer.rsaKeyID)], claims: claims, signing: signing)
            let code = await rejection(token)
            #expect(code == .algorithmNotAllowed || code == .malformed, "\(spelling): \(String(describing: code))")
        }
    }

    @Test("HS256 signed with the RSA public key is refused")
    func hmacWithPublicKey() async throws {
        let token = try issuer.token(
            header: ["alg": .string("HS256"), "kid": .string(issuer.rsaKeyID)], claims: claims,
            signing: .hs256(key: Array(issuer.rsaPublicKeyPEM.utf8))
        )
        #expect(await rejection(token) == .algorithmNotAllowed)
    }

    @Test("a token whose alg differs from its key's pinned alg is refused")
    func algorithmConfusion() async throws {
        let token = try issuer.token(header: ["alg": .string("PS256"), "kid": .string(issuer.rsaKeyID)], claims: claims, signing: .rs256)
        #expect(await rejection(token) == .algorithmNotAllowed)
        let es = try issuer.token(header: ["alg": .string("ES256"), "kid": .string(issuer.rsaKeyID)], claims: claims, signing: .es256)
        #expect(await rejection(es) == .algorithmNotAllowed)
    }

    @Test("a junk token cannot fix a key's algorithm for everyone (jwt-kit trap 2)")
    func junkDoesNotPinAlgorithm() async throws {
        let shared = verifier()
        let junk = try issuer.token(header: ["alg": .string("PS256"), "kid": .string(issuer.rsaKeyID)], claims: claims, signing: .garbage)
        #expect(await rejection(junk, using: shared) != nil)
        #expect(await rejection(try issuer.valid(claims: claims), using: shared) == nil)
    }

    @Test("an unknown kid is refused, never verified with a default key (jwt-kit trap 1)")
    func unknownKeyID() async throws {
        let shared = verifier()
        let token = try issuer.token(header: ["alg": .string("RS256"), "kid": .string("not-a-key")], claims: claims, signing: .rs256)
        #expect(await rejection(token, using: shared) == .unknownKey)
        // Unknown kids refresh the JWKS, but at most once per interval, however many arrive.
        for index in 0..<20 {
            let other = try issuer.token(header: ["alg": .string("RS256"), "kid": .string("k\(index)")], claims: claims, signing: .rs256)
            #expect(await rejection(other, using: shared) == .unknownKey)
        }
        #expect(counter.value.load(ordering: .relaxed) <= 2)
    }

    @Test("before keys were ever loaded, refetches are rate-limited too: an IdP that is down is not hammered")
    func rateLimitedBeforeLoaded() async throws {
        let fetches = Atomic<Int>(0)
        let available = Atomic<Bool>(false)
        let start = ContinuousClock.now
        let offset = Mutex<Duration>(.zero)
        let jwks = issuer.jwks()
        let keys = SigningKeySet(
            refreshInterval: .seconds(30), retryInterval: .seconds(5), clock: { start + offset.withLock { $0 } },
            logger: LogRecorder().logger()
        ) {
            fetches.wrappingAdd(1, ordering: .relaxed)
            guard available.load(ordering: .relaxed) else { throw TestFailure("the IdP is down") }
            return jwks
        }
        let shared = TokenVerifier(keys: keys, maximumBytes: 16_384)
        let token = try issuer.valid(claims: claims)
        for _ in 0..<50 {
            #expect(await rejection(token, using: shared) == .keysUnavailable)
        }
        #expect(fetches.load(ordering: .relaxed) == 1)
        // The IdP is back, but the next attempt waits for the retry interval.
        available.store(true, ordering: .relaxed)
        offset.withLock { $0 = .seconds(4) }
        #expect(await rejection(token, using: shared) == .keysUnavailable)
        #expect(fetches.load(ordering: .relaxed) == 1)
        offset.withLock { $0 = .seconds(5) }
        #expect(await rejection(token, using: shared) == nil)
        #expect(fetches.load(ordering: .relaxed) == 2)
        // Loaded: an unknown kid refetches at most once per refresh interval.
        for index in 0..<20 {
            let other = try issuer.token(header: ["alg": .string("RS256"), "kid": .string("k\(index)")], claims: claims, signing: .rs256)
            #expect(await rejection(other, using: shared) == .unknownKey)
        }
        #expect(fetches.load(ordering: .relaxed) == 2)
        offset.withLock { $0 = .seconds(35) }
        #expect(await rejection(try issuer.token(header: ["alg": .string("RS256"), "kid": .string("new")], claims: claims, signing: .rs256),
                                using: shared) == .unknownKey)
        #expect(fetches.load(ordering: .relaxed) == 3)
    }

    @Test("keys in the header are refused", arguments: ["jwk", "jku", "x5u", "x5c"])
    func embeddedKeys(_ field: String) async throws {
        let value: JSONValue = field == "jwk" ? .object(issuer.rsaJWK) : field == "x5c" ? .array([.string("MIIB")]) : .string("https://evil.example/keys")
        let token = try issuer.token(header: ["alg": .string("RS256"), "kid": .string(issuer.rsaKeyID), field: value], claims: claims, signing: .rs256)
        #expect(await rejection(token) == .embeddedKey)
    }

    @Test("an unknown crit header is refused")
    func critical() async throws {
        let token = try issuer.token(
            header: ["alg": .string("RS256"), "kid": .string(issuer.rsaKeyID), "crit": .array([.string("exp-ext")]), "exp-ext": .bool(true)],
            claims: claims, signing: .rs256
        )
        #expect(await rejection(token) == .criticalHeader)
    }

    @Test("claims: expired, not yet valid, wrong issuer, wrong audience, missing exp, nonce mismatch", arguments: [
        ["exp": JSONValue.number(1_799_999_000)], ["nbf": .number(1_800_001_000)], ["iss": .string("https://evil.example")],
        ["aud": .string("someone-else")], ["exp": nil], ["nonce": .string("other")],
    ] as [[String: JSONValue?]])
    func claimRules(_ changes: [String: JSONValue?]) async throws {
        var changed = claims
        for (key, value) in changes { changed[key] = value }
        #expect(await rejection(try issuer.valid(claims: changed)) == .claims)
    }

    @Test("an oversized token is refused before any parsing")
    func oversized() async throws {
        var big = claims
        big["padding"] = .string(String(repeating: "x", count: 20_000))
        #expect(await rejection(try issuer.valid(claims: big)) == .tooLarge)
    }

    @Test("a tampered payload fails the signature")
    func tampered() async throws {
        let token = try issuer.valid(claims: claims)
        let parts = token.split(separator: ".")
        var forged = claims
        forged["sub"] = .string("admin")
        let payload = try JSONEncoder().encode(JSONValue.object(forged)).base64URLEncodedString()
        #expect(await rejection("\(parts[0]).\(payload).\(parts[2])") == .badSignature)
    }

    @Test("malformed tokens", arguments: ["", "a.b", "a.b.c.d", "..", "!!!.e30.sig", "e30.e30.sig", "bm90IGpzb24.e30.c2ln"])
    func malformed(_ token: String) async {
        #expect(await rejection(token) == .malformed)
    }

    @Test("keys without alg are pinned from their type; HMAC and encryption keys are skipped")
    func keyPinning() async throws {
        var hmacKey: [String: JSONValue] = ["kty": .string("oct"), "kid": .string("h1"), "k": .string("c2VjcmV0")]
        hmacKey["alg"] = .string("HS256")
        var encryptionKey = issuer.ecJWK
        encryptionKey["kid"] = .string("enc-1")
        encryptionKey["use"] = .string("enc")
        let shared = verifier(jwks: issuer.jwks([issuer.rsaJWK, hmacKey, encryptionKey]))
        #expect(await rejection(try issuer.valid(claims: claims), using: shared) == nil)
        let viaHMAC = try issuer.token(header: ["alg": .string("HS256"), "kid": .string("h1")], claims: claims, signing: .hs256(key: Array("secret".utf8)))
        #expect(await rejection(viaHMAC, using: shared) == .algorithmNotAllowed)
        let viaEncryptionKey = try issuer.token(header: ["alg": .string("ES256"), "kid": .string("enc-1")], claims: claims, signing: .es256)
        #expect(await rejection(viaEncryptionKey, using: shared) == .unknownKey)
    }

    @Test("a token without kid is accepted only when the IdP has exactly one key")
    func missingKeyID() async throws {
        let token = try issuer.token(header: ["alg": .string("RS256")], claims: claims, signing: .rs256)
        #expect(await rejection(token, using: verifier(jwks: issuer.jwks([issuer.rsaJWK]))) == nil)
        #expect(await rejection(token, using: verifier()) == .unknownKey)
    }
}
