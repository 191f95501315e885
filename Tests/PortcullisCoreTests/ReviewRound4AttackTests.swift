import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 4 (81e1825): the fixes of round 3, attacked.
@Suite("Review round 4: short names with - and _, identity headers of the same families")
struct ReviewRound4AttackTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("user-management", "/user-management", require: .permission(.teammatesView)),
        route("admin_panel", "/admin_panel", require: .permission(.teammatesView)),
        route("administration", "/administration", require: .permission(.teammatesView)),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    /// Windows keeps `-`, `_` and the other legal 8.3 punctuation (`! # $ % & ' ( ) @ ^ { } ~`)
    /// in a short name and only drops spaces and dots: `user-management` is `USER-M~1`,
    /// `admin_panel` is `ADMIN_~1`. `isShortName` requires the stem to be letters and digits
    /// only, so these fall to the public `/` route, which IIS then serves as the protected
    /// directory.
    @Test("an 8.3 short name that keeps a - or _ of its long name is not matched to a less protected route", arguments: [
        "/USER-M~1/x", "/user-m~1/x", "/ADMIN_~1/x", "/admin_~1/x",
    ])
    func shortNamesWithPunctuation(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// `isShortName` reads the raw segment, not its lenient form: a short name with a trailing
    /// space, an NTFS stream or a fullwidth letter or digit (each a look-alike on its own, by
    /// ``NormalizedPath/lenientForm(_:)``) is neither equal to the route's segment once folded
    /// nor a short name as it is spelt, so it falls to the `/` route. IIS trims the space, cuts
    /// the stream, and (by the model the fix defends against) folds the width, then answers
    /// the short name.
    @Test("an 8.3 short name combined with another look-alike is not matched to a less protected route", arguments: [
        "/ADMINI~1%20/x", "/ADMINI~1::$INDEX_ALLOCATION/x", "/ADMINI~%EF%BC%91/x", "/%EF%BC%A1DMINI~1/x", "/ADMINI~1%20./x",
        "/ADMINI%EF%BD%9E1/x", // U+FF5E FULLWIDTH TILDE
    ])
    func shortNamesCombined(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// The families round 3 added, in the spellings their own software sets: mod_auth_openidc
    /// (`OIDCPassIDTokenAs payload`, `OIDCPassUserInfoAs json|jwt`, `OIDCPassRefreshToken`) and
    /// kong-oidc (`X-ID-Token`: the ID token's claims, base64 JSON, next to `X-Userinfo`), Kong's
    /// basic-auth/ldap-auth before 2.x (`X-Credential-Username`).
    @Test("identity headers of the families round 3 named are identity headers", arguments: [
        "OIDC_id_token_payload", "OIDC_userinfo_json", "OIDC_userinfo_jwt", "OIDC_refresh_token",
        "X-ID-Token", "X-Credential-Username",
    ])
    func sameFamilies(_ name: String) {
        #expect(HeaderRules.disposition(ofRequestHeader: name) == .identity, "\(name) reaches the upstream")
    }

    /// A regression a legitimate user meets: a segment holding U+FF0F FULLWIDTH SOLIDUS (common
    /// in Japanese titles) or U+2105 CARE OF (NFKD `c/o`) is refused 400 even when, read with the
    /// folded separator, it stays inside the route it matched and carries no dot segment.
    @Test("a non-ASCII segment whose folded form holds a / but walks nowhere is an ordinary path", arguments: [
        "/wiki/%E6%9D%B1%E4%BA%AC%EF%BC%8F%E5%A4%A7%E9%98%AA", // 東京／大阪
        "/notes/%E2%84%85",                                   // ℅
    ])
    func foldedSeparatorThatWalksNowhere(_ target: String) throws {
        #expect(try name(target) == "app")
    }
}
