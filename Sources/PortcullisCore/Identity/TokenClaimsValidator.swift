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

/// What the gateway reads from a verified ID token or bearer JWT.
public enum TokenClaims {
    /// Subject, email, name, department and groups, by the configured claim names.
    public static func profile(_ claims: [String: JSONValue], names: ClaimNames) -> LoginProfile? {
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty, subject.utf8.count <= 255 else { return nil }
        let email = claims[names.email]?.stringValue ?? claims["preferred_username"]?.stringValue ?? subject
        return LoginProfile(
            subject: subject,
            email: String(email.prefix(320)),
            name: claims[names.name]?.stringValue.map { String($0.prefix(200)) },
            department: claims[names.department]?.stringValue.map { String($0.prefix(200)) },
            groups: (claims[names.groups]?.stringList ?? []).prefix(1_000).map { String($0.prefix(256)) }
        )
    }

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
