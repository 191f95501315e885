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
        let profile = try TokenClaims.loginProfile(claims, names: names, trustEmail: true).get()
        #expect(profile == LoginProfile(
            subject: "u1", email: "ada@example.com", emailVerified: true, name: "Ada", department: "Eng", groups: ["IT-Admins", "Content-Team"]
        ))
        // Another email claim is verified only when the issuer is trusted for email.
        #expect(try TokenClaims.loginProfile(claims, names: names, trustEmail: false).get().emailVerified == false)
        #expect(throws: LoginRefusal.self) { try TokenClaims.loginProfile(["mail": .string("x@y")], names: names, trustEmail: true).get() }
        #expect(throws: LoginRefusal.self) {
            try TokenClaims.loginProfile(["sub": .string(String(repeating: "s", count: 300)), "mail": .string("a@b")], names: names, trustEmail: true).get()
        }
    }

    /// The email comes from the configured claim only: never from `preferred_username` or
    /// `sub` (issue 12: that made a login match the wrong account).
    static let unusableEmails: [[String: JSONValue]] = [
        ["sub": .string("alice")],
        ["sub": .string("alice"), "preferred_username": .string("alice@example.test")],
        ["sub": .string("alice"), "email": .string("")],
        ["sub": .string("alice"), "email": .string("alice")],
        ["sub": .string("alice"), "email": .number(1)],
        ["sub": .string("alice"), "email": .string("a b@example.test")],
        ["sub": .string("alice"), "email": .string("alice@example.test\u{0}")],
        ["sub": .string("alice"), "email": .string(String(repeating: "a", count: 320) + "@x.test")],
    ]

    @Test("without a usable email the sign-in is refused with email_missing", arguments: unusableEmails)
    func emailMissing(_ claims: [String: JSONValue]) {
        switch TokenClaims.loginProfile(claims, names: ClaimNames(), trustEmail: true) {
        case .success(let profile): Issue.record("accepted \(profile.email)")
        case .failure(let refusal): #expect(refusal.code == .emailMissing)
        }
    }

    @Test("email_verified: true or \"true\" verifies; absent or false does not, unless the issuer is trusted")
    func emailVerified() throws {
        let base: [String: JSONValue] = ["sub": .string("u"), "email": .string("u@example.test")]
        for (value, expected) in [(JSONValue.bool(true), true), (.string("true"), true), (.string("TRUE"), true), (.bool(false), false),
                                  (.string("yes"), false), (.number(1), false)] {
            var claims = base
            claims["email_verified"] = value
            #expect(try TokenClaims.loginProfile(claims, names: ClaimNames(), trustEmail: false).get().emailVerified == expected, "\(value)")
        }
        #expect(try TokenClaims.loginProfile(base, names: ClaimNames(), trustEmail: false).get().emailVerified == false)
        #expect(try TokenClaims.loginProfile(base, names: ClaimNames(), trustEmail: true).get().emailVerified)
        // trust_email covers a provider that never says; one that says no means no.
        for said in [JSONValue.bool(false), .string("false"), .string("no"), .number(0)] {
            var claims = base
            claims["email_verified"] = said
            #expect(try TokenClaims.loginProfile(claims, names: ClaimNames(), trustEmail: true).get().emailVerified == false, "\(said)")
        }
        // An absent groups claim leaves memberships alone; an empty one empties the oidc ones.
        #expect(try TokenClaims.loginProfile(base, names: ClaimNames(), trustEmail: false).get().groups == nil)
        var empty = base
        empty["groups"] = .array([])
        #expect(try TokenClaims.loginProfile(empty, names: ClaimNames(), trustEmail: false).get().groups == [])
    }

    @Test("UserInfo fills what the ID token lacks, never overrides it, and must name the same subject")
    func userInfoMerge() throws {
        let idToken: [String: JSONValue] = ["sub": .string("u1"), "name": .string("From ID token")]
        let userInfo: [String: JSONValue] = [
            "sub": .string("u1"), "name": .string("From UserInfo"), "email": .string("u1@example.test"), "groups": .array([.string("G")]),
        ]
        let merged = try #require(TokenClaims.merging(idToken, userInfo: userInfo))
        #expect(merged["name"] == .string("From ID token") && merged["email"] == .string("u1@example.test") && merged["groups"] != nil)
        #expect(TokenClaims.merging(idToken, userInfo: ["sub": .string("someone-else"), "email": .string("x@y")]) == nil)
        #expect(TokenClaims.merging(idToken, userInfo: ["email": .string("x@y")]) == nil)
        #expect(TokenClaims.needsUserInfo(["sub": .string("u")], names: ClaimNames(), trustEmail: false))
        let complete: [String: JSONValue] = [
            "sub": .string("u"), "email": .string("u@x"), "email_verified": .bool(true), "name": .string("U"), "groups": .array([]),
            "department": .string("D"),
        ]
        #expect(!TokenClaims.needsUserInfo(complete, names: ClaimNames(), trustEmail: false))
        var unverified = complete
        unverified["email_verified"] = nil
        #expect(TokenClaims.needsUserInfo(unverified, names: ClaimNames(), trustEmail: false))
        #expect(!TokenClaims.needsUserInfo(unverified, names: ClaimNames(), trustEmail: true))
    }

    @Test("MFA from amr or acr")
    func mfa() {
        #expect(TokenClaims.provesMFA(["amr": .array([.string("pwd"), .string("otp")])], mfaMethods: ["otp"], mfaACRValues: []))
        #expect(!TokenClaims.provesMFA(["amr": .array([.string("pwd")])], mfaMethods: ["otp"], mfaACRValues: []))
        #expect(TokenClaims.provesMFA(["acr": .string("urn:mfa")], mfaMethods: [], mfaACRValues: ["urn:mfa"]))
        #expect(!TokenClaims.provesMFA([:], mfaMethods: ["otp"], mfaACRValues: ["urn:mfa"]))
    }

    @Test("UserInfo adds what the ID token lacks, never claims about the authentication, and vouches only for its own email")
    func userInfoMerging() throws {
        let idToken: [String: JSONValue] = ["sub": .string("u"), "email": .string("u@example.test"), "acr": .string("pwd")]
        let userInfo: [String: JSONValue] = [
            "sub": .string("u"), "email": .string("other@example.test"), "email_verified": .bool(true), "groups": .array([.string("g")]),
            "amr": .array([.string("mfa")]), "acr": .string("mfa"), "sid": .string("s"), "auth_time": .number(1),
        ]
        let merged = try #require(TokenClaims.merging(idToken, userInfo: userInfo))
        #expect(merged["email"] == .string("u@example.test"))
        #expect(merged["email_verified"] == nil, "UserInfo verified another address than the ID token's")
        #expect(merged["groups"] == .array([.string("g")]))
        #expect(merged["amr"] == nil && merged["sid"] == nil && merged["auth_time"] == nil)
        #expect(merged["acr"] == .string("pwd"))
        // The same email: its verification is taken.
        var same = userInfo
        same["email"] = .string("u@example.test")
        #expect(TokenClaims.merging(idToken, userInfo: same)?["email_verified"] == .bool(true))
        // No email in the ID token: UserInfo's email and its verification come together.
        #expect(TokenClaims.merging(["sub": .string("u")], userInfo: userInfo)?["email_verified"] == .bool(true))
        // Another subject: refused.
        #expect(TokenClaims.merging(idToken, userInfo: ["sub": .string("v")]) == nil)
    }
}
