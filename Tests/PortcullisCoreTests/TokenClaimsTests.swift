import Foundation
import PortcullisCore
import Testing

@Suite("Token claims")
struct TokenClaimsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let validator = TokenClaimsValidator(issuer: "https://idp.example.com", audiences: ["portcullis"], authorizedParty: "portcullis", clockSkew: 60)

    func claims(_ changes: [String: JSONValue?] = [:]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "iss": .string("https://idp.example.com"), "sub": .string("u1"), "aud": .string("portcullis"),
            "exp": .number(1_800_000_300), "iat": .number(1_799_999_990), "nonce": .string("n1"),
        ]
        for (key, value) in changes { claims[key] = value }
        return claims
    }

    func code(_ claims: [String: JSONValue], nonce: String? = "n1") -> TokenClaimsValidator.Failure.Code? {
        if case .failure(let failure) = validator.validate(claims, now: now, nonce: nonce) { return failure.code }
        return nil
    }

    @Test("a valid token passes")
    func valid() {
        #expect(code(claims()) == nil)
        #expect(code(claims(["aud": .array([.string("portcullis"), .string("other")]), "azp": .string("portcullis")])) == nil)
        #expect(code(claims(["iss": .string("https://idp.example.com/")])) == nil)
    }

    @Test("each rule refuses", arguments: [
        (["iss": .string("https://evil.example.com")], TokenClaimsValidator.Failure.Code.wrongIssuer),
        (["iss": nil], .missingClaim),
        (["aud": .string("someone-else")], .wrongAudience),
        (["aud": nil], .missingClaim),
        (["aud": .array([.string("portcullis"), .string("other")])], .missingClaim),
        (["azp": .string("other")], .wrongAuthorizedParty),
        (["exp": .number(1_799_999_900)], .expired),
        (["exp": nil], .missingClaim),
        (["exp": .string("tomorrow")], .malformed),
        (["nbf": .number(1_800_000_500)], .notYetValid),
        (["iat": .number(1_800_000_500)], .issuedInFuture),
        (["iat": nil], .missingClaim),
        (["nonce": .string("other")], .nonceMismatch),
        (["nonce": nil], .nonceMismatch),
    ] as [([String: JSONValue?], TokenClaimsValidator.Failure.Code)])
    func refusals(_ changes: [String: JSONValue?], _ expected: TokenClaimsValidator.Failure.Code) {
        #expect(code(claims(changes)) == expected)
    }

    @Test("clock skew is allowed both ways, and no further")
    func skew() {
        #expect(code(claims(["exp": .number(1_799_999_950)])) == nil)
        #expect(code(claims(["exp": .number(1_799_999_939)])) == .expired)
        #expect(code(claims(["nbf": .number(1_800_000_059)])) == nil)
        #expect(code(claims(["iat": .number(1_800_000_061)])) == .issuedInFuture)
    }

    @Test("logout tokens: events, jti, sid or sub, and never a nonce")
    func logoutEvents() {
        let event: JSONValue = .object(["http://schemas.openid.net/event/backchannel-logout": .object([:])])
        let good: [String: JSONValue] = ["events": event, "jti": .string("j1"), "sid": .string("s1")]
        guard case .success(let parsed) = TokenClaims.validateLogoutEvent(good) else {
            Issue.record("refused a good logout token")
            return
        }
        #expect(parsed.jti == "j1" && parsed.sid == "s1" && parsed.sub == nil)
        var withNonce = good
        withNonce["nonce"] = .string("n")
        #expect(throws: TokenClaimsValidator.Failure.self) { try TokenClaims.validateLogoutEvent(withNonce).get() }
        #expect(throws: TokenClaimsValidator.Failure.self) { try TokenClaims.validateLogoutEvent(["jti": .string("j"), "sid": .string("s")]).get() }
        #expect(throws: TokenClaimsValidator.Failure.self) { try TokenClaims.validateLogoutEvent(["events": event, "sid": .string("s")]).get() }
        #expect(throws: TokenClaimsValidator.Failure.self) { try TokenClaims.validateLogoutEvent(["events": event, "jti": .string("j")]).get() }
    }

    @Test("profiles follow the configured claim names and are bounded")
    func profile() throws {
        let names = ClaimNames(groups: "roles_groups", department: "dept", name: "display", email: "mail")
        let claims: [String: JSONValue] = [
            "sub": .string("u1"), "mail": .string("ada@example.com"), "display": .string("Ada"), "dept": .string("Eng"),
            "roles_groups": .array([.string("IT-Admins"), .number(3), .string("Content-Team")]),
        ]
        let profile = try #require(TokenClaims.profile(claims, names: names))
        #expect(profile == LoginProfile(subject: "u1", email: "ada@example.com", name: "Ada", department: "Eng", groups: ["IT-Admins", "Content-Team"]))
        #expect(TokenClaims.profile(["mail": .string("x@y")], names: names) == nil)
        #expect(TokenClaims.profile(["sub": .string(String(repeating: "s", count: 300))], names: names) == nil)
    }

    @Test("MFA from amr or acr")
    func mfa() {
        #expect(TokenClaims.provesMFA(["amr": .array([.string("pwd"), .string("otp")])], mfaMethods: ["otp"], mfaACRValues: []))
        #expect(!TokenClaims.provesMFA(["amr": .array([.string("pwd")])], mfaMethods: ["otp"], mfaACRValues: []))
        #expect(TokenClaims.provesMFA(["acr": .string("urn:mfa")], mfaMethods: [], mfaACRValues: ["urn:mfa"]))
        #expect(!TokenClaims.provesMFA([:], mfaMethods: ["otp"], mfaACRValues: ["urn:mfa"]))
    }
}
