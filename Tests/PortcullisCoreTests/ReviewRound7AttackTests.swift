import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 7 (60c3fcd): the lenient reading's split at the
/// characters that fold into a separator.
@Suite("Review round 7: separators that share a grapheme with their neighbour")
struct ReviewRound7CoreAttackTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("administration", "/administration", require: .permission(.teammatesView)),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    /// `lenientParts` looks for the folded separator among the `Character`s of each folded
    /// character (`form.contains { $0 == "/" || $0 == "\\" }`, then `form.split(separator:)`),
    /// and a `Character` is a grapheme cluster. A `／` (or `＼`) folded to `/` is no `Character`
    /// of its own when a Prepend character stands before it (U+0600 ARABIC NUMBER SIGN, U+0D4E
    /// MALAYALAM LETTER DOT REPH, U+110BD KAITHI NUMBER SIGN: `؀/` is one grapheme, GB9b), or
    /// a spacing or enclosing mark or an emoji modifier after it (U+0903 DEVANAGARI SIGN VISARGA,
    /// U+20DD COMBINING ENCLOSING CIRCLE, U+1F3FB: GB9/GB9a; none is a nonspacing mark, so the
    /// fold keeps it). That separator is then no split: `/x/؀／..／../administration/y` reads
    /// here as `/x/administration/y`, the public `/` route's, while a server that folds `／`
    /// into `/` (the model of round 3) splits at every one and serves `/administration/y`.
    @Test("a folded separator inside a grapheme cluster never carries a path out of the public route", arguments: [
        "/x/%D8%80%EF%BC%8F..%EF%BC%8F../administration/y",           // ؀／..／..  (U+0600, Prepend)
        "/x/%E0%B5%8E%EF%BC%8F..%EF%BC%8F../administration/y",        // ൎ／..／..  (U+0D4E, Prepend)
        "/x/%F0%91%82%BD%EF%BC%8F..%EF%BC%8F../administration/y",     // U+110BD ／..／..  (Prepend)
        "/x/%D8%80%EF%BC%BC..%EF%BC%BC../administration/y",           // ؀＼..＼..  (FULLWIDTH REVERSE SOLIDUS)
        "/x/..%EF%BC%8F%E0%A4%83..%EF%BC%8F../administration/y",      // ..／ः..／..  (U+0903, SpacingMark)
        "/x/..%EF%BC%8F%E2%83%9D..%EF%BC%8F../administration/y",      // ..／⃝..／..  (U+20DD, Extend, Me)
        "/x/..%EF%BC%8F%F0%9F%8F%BB..%EF%BC%8F../administration/y",   // ..／🏻..／..  (U+1F3FB, Extend)
        "/administration%EF%BC%8F%E2%83%9Dy",                           // administration／⃝y: /administration/⃝y to such a server
    ])
    func separatorInGraphemeCluster(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// Round 6 made a route whose prefix holds a letter that folds reachable at its own path,
    /// but not one whose prefix holds a character that folds into a separator (`/東京／大阪`):
    /// every request to it reads, leniently, as `/東京/大阪/…`. Such a prefix is now a
    /// configuration error (ConfigurationFileTests `walkingPrefixRefused`); a table built with
    /// one anyway refuses requests to it, never passes them to a shorter route.
    @Test("a route whose prefix holds a character that folds into a separator: refused by the configuration, and never falls to a shorter route")
    func routeWithSeparatorInPrefix() throws {
        let probe = RouteTableProbe([route("app", "/", require: .public), route("own", "/東京／大阪")])
        let matched = try probe.name("/%E6%9D%B1%E4%BA%AC%EF%BC%8F%E5%A4%A7%E9%98%AA/x")
        #expect(matched == "400 own", "/東京／大阪/x, under the route /東京／大阪, was matched as \(matched)")
    }
}
