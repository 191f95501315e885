#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks the registered claims of a signed token whose signature was already verified
/// (OpenID Connect Core §3.1.3.7, RFC 7519 §4.1): `iss`, `aud`, `azp`, `exp`, `nbf`, `iat`
/// and `nonce`, with a clock-skew allowance. Time is a parameter.
public struct TokenClaimsValidator: Sendable {
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Code: String, Sendable {
            case missingClaim = "missing_claim"
            case wrongIssuer = "wrong_issuer"
            case wrongAudience = "wrong_audience"
            case wrongAuthorizedParty = "wrong_authorized_party"
            case expired
            case notYetValid = "not_yet_valid"
            case issuedInFuture = "issued_in_future"
            case tooOld = "too_old"
            case nonceMismatch = "nonce_mismatch"
            case malformed
        }

        public let code: Code
        public let claim: String

        public var description: String { "\(code.rawValue) (\(claim))" }
    }

    public let issuer: String
    /// Any one of these must appear in `aud`.
    public let audiences: [String]
    /// When several audiences are present, `azp` must be this (the client id).
    public let authorizedParty: String?
    public let clockSkew: TimeInterval
    /// Tokens issued longer ago than this are refused (logout tokens); `nil` for no bound.
    public let maximumAge: TimeInterval?
    public let requireExpiry: Bool

    public init(
        issuer: String,
        audiences: [String],
        authorizedParty: String? = nil,
        clockSkew: TimeInterval = 60,
        maximumAge: TimeInterval? = nil,
        requireExpiry: Bool = true
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.authorizedParty = authorizedParty
        self.clockSkew = clockSkew
        self.maximumAge = maximumAge
        self.requireExpiry = requireExpiry
    }

    public func validate(_ claims: [String: JSONValue], now: Date, nonce: String? = nil) -> Result<Void, Failure> {
        func fail(_ code: Failure.Code, _ claim: String) -> Result<Void, Failure> { .failure(Failure(code: code, claim: claim)) }
        guard let iss = claims["iss"]?.stringValue else { return fail(.missingClaim, "iss") }
        guard iss == issuer || iss == issuer + "/" else { return fail(.wrongIssuer, "iss") }
        guard let aud = claims["aud"]?.stringList, !aud.isEmpty else { return fail(.missingClaim, "aud") }
        guard aud.contains(where: audiences.contains) else { return fail(.wrongAudience, "aud") }
        if let azp = claims["azp"] {
            guard let party = azp.stringValue else { return fail(.malformed, "azp") }
            if let authorizedParty, party != authorizedParty { return fail(.wrongAuthorizedParty, "azp") }
        } else if aud.count > 1, authorizedParty != nil {
            return fail(.missingClaim, "azp")
        }
        let instant = now.timeIntervalSince1970
        if let exp = claims["exp"] {
            guard let value = exp.numberValue else { return fail(.malformed, "exp") }
            if instant > value + clockSkew { return fail(.expired, "exp") }
        } else if requireExpiry {
            return fail(.missingClaim, "exp")
        }
        if let nbf = claims["nbf"] {
            guard let value = nbf.numberValue else { return fail(.malformed, "nbf") }
            if instant + clockSkew < value { return fail(.notYetValid, "nbf") }
        }
        guard let iat = claims["iat"]?.numberValue else { return fail(.missingClaim, "iat") }
        if instant + clockSkew < iat { return fail(.issuedInFuture, "iat") }
        if let maximumAge, instant - iat > maximumAge + clockSkew { return fail(.tooOld, "iat") }
        if let nonce {
            guard claims["nonce"]?.stringValue == nonce else { return fail(.nonceMismatch, "nonce") }
        }
        return .success(())
    }
}

/// What the gateway reads from a verified ID token or bearer JWT, merged with UserInfo.
public enum TokenClaims {
    /// The token's subject, when it has a usable one.
    public static func subject(_ claims: [String: JSONValue]) -> String? {
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty, subject.utf8.count <= 255 else { return nil }
        return subject
    }

    /// Subject, email (and whether it is verified), name, department and groups, by the
    /// configured claim names. The email comes from the configured claim only, never from
    /// `preferred_username` or `sub`: without one the sign-in is refused (`email_missing`).
    /// It counts as verified when `email_verified` is true (a boolean or the string
    /// `"true"`), or when the issuer is trusted for email. Groups are `nil` when the claim is
    /// absent, so that memberships stay as they are.
    public static func loginProfile(_ claims: [String: JSONValue], names: ClaimNames, trustEmail: Bool) -> Result<LoginProfile, LoginRefusal> {
        guard let subject = subject(claims) else { return .failure(LoginRefusal(.emailMissing, "the token names no subject")) }
        guard let email = claims[names.email]?.stringValue?.trimmingSpaces, !email.isEmpty, email.utf8.count <= 320, email.contains("@"),
              !email.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            return .failure(LoginRefusal(
                .emailMissing, "the identity provider sent no usable email in the \(names.email) claim; check identity.oidc.claims.email and scopes"
            ))
        }
        // trust_email covers a provider that never says; a provider that says no means no.
        var verified = trustEmail
        if names.email == "email" {
            switch claims["email_verified"] {
            case .bool(let flag)?: verified = flag
            case .string(let text)?: verified = text.lowercased() == "true"
            case nil: break
            default: verified = false
            }
        }
        return .success(LoginProfile(
            subject: subject,
            email: email,
            emailVerified: verified,
            name: claims[names.name]?.stringValue.map { String($0.prefix(200)) },
            department: claims[names.department]?.stringValue.map { String($0.prefix(200)) },
            groups: claims[names.groups]?.stringList.map { $0.prefix(1_000).map { String($0.prefix(256)) } }
        ))
    }

    /// Whether the ID token lacks a configured claim that UserInfo may have (`userinfo: auto`):
    /// the email, whether it is verified (unless the issuer is trusted for email), the name,
    /// the groups or the department.
    public static func needsUserInfo(_ claims: [String: JSONValue], names: ClaimNames, trustEmail: Bool) -> Bool {
        for name in [names.email, names.name, names.groups, names.department] where claims[name] == nil {
            return true
        }
        return !trustEmail && names.email == "email" && claims["email_verified"] == nil
    }

    /// The ID token's claims with what UserInfo adds (OpenID Connect Core §5.3.2): claims the
    /// ID token lacks are taken from UserInfo, whose `sub` must be the ID token's.
    ///
    /// Claims about the authentication itself (`amr`, `acr`, `auth_time`, `sid`, `nonce`, and
    /// the token's own) only ever come from the ID token; and UserInfo's `email_verified` speaks
    /// only for UserInfo's own email, so it is not taken when the ID token names another.
    public static func merging(_ claims: [String: JSONValue], userInfo: [String: JSONValue]) -> [String: JSONValue]? {
        guard let subject = subject(claims), userInfo["sub"]?.stringValue == subject else { return nil }
        var added = userInfo.filter { !idTokenOnly.contains($0.key) }
        if let email = claims["email"], userInfo["email"] != email { added.removeValue(forKey: "email_verified") }
        return claims.merging(added) { idToken, _ in idToken }
    }

    static let idTokenOnly: Set<String> = ["amr", "acr", "auth_time", "sid", "nonce", "iss", "aud", "azp", "exp", "iat", "nbf", "jti"]

    /// The authentication proved a second factor: an `amr` value or the `acr` named as MFA.
    public static func provesMFA(_ claims: [String: JSONValue], mfaMethods: Set<String>, mfaACRValues: Set<String>) -> Bool {
        if let amr = claims["amr"]?.stringList, amr.contains(where: mfaMethods.contains) { return true }
        if let acr = claims["acr"]?.stringValue, mfaACRValues.contains(acr) { return true }
        return false
    }

    /// Back-channel logout token rules (OpenID Connect Back-Channel Logout 1.0 §2.6): the
    /// `events` claim holds the logout event, there is a `sid` or a `sub`, there is no `nonce`,
    /// and there is a `jti`.
    public static func validateLogoutEvent(_ claims: [String: JSONValue]) -> Result<(jti: String, sid: String?, sub: String?), TokenClaimsValidator.Failure> {
        guard case .object(let events) = claims["events"], case .object = events["http://schemas.openid.net/event/backchannel-logout"] else {
            return .failure(.init(code: .missingClaim, claim: "events"))
        }
        if claims["nonce"] != nil { return .failure(.init(code: .malformed, claim: "nonce")) }
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty else { return .failure(.init(code: .missingClaim, claim: "jti")) }
        let sid = claims["sid"]?.stringValue
        let sub = claims["sub"]?.stringValue
        guard sid != nil || sub != nil else { return .failure(.init(code: .missingClaim, claim: "sid")) }
        return .success((jti, sid, sub))
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
