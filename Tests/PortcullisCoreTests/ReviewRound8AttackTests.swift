import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 8 (b0ff8c3): what the lenient reading still judges by
/// `Character` where a code point matters, and a separator it does not know.
@Suite("Review round 8: the NTFS stream cut by grapheme, and best-fit separators")
struct ReviewRound8CoreAttackTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("administration", "/administration", require: .permission(.teammatesView)),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    /// `lenientForm` and `dotSegment` cut an NTFS stream suffix at `form.firstIndex(of: ":")`,
    /// and `firstIndex(of:)` on a `String` finds a `Character`: a grapheme cluster. A `:`
    /// followed by an enclosing mark (U+20DD, Grapheme_Cluster_Break Extend: GB9) or a spacing
    /// mark (U+0903: GB9a) is no `Character` `:`; the fold keeps both (neither is a nonspacing
    /// mark nor default-ignorable). So `administration:⃝:$DATA` is cut at its *second* colon and
    /// reads `administration:⃝`, no look-alike, while the model the table already applies to
    /// `/admin:x:$DATA` (RouteTableTests: a named NTFS stream; IIS serves `admin`) cuts at the
    /// first colon code point: `administration`. Likewise `..:⃝:$DATA` is no dot segment here,
    /// while `..:x:$DATA` is `..`. Each target below falls to the public `/` route; its ASCII
    /// twin (`/administration:x:$DATA/y`, `/x/..:x:$DATA/administration/y`) is refused 400.
    @Test("a stream suffix whose first colon shares a grapheme cluster with a mark is still cut there", arguments: [
        "/administration:%E2%83%9D:$DATA/y",                 // administration:⃝:$DATA  (U+20DD, Extend)
        "/administration:%E0%A4%83:$DATA/y",                 // administration:ः:$DATA  (U+0903, SpacingMark)
        "/administration:%E2%83%9D:$INDEX_ALLOCATION/y",
        "/x/..:%E2%83%9D:$DATA/administration/y",             // ..:⃝:$DATA is `..` to that reading
        "/x/..:%E0%A4%83:$DATA/administration/y",
    ])
    func streamCutAtColonInCluster(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// Argued, outside the README's model (NFKD): Windows "best-fit" conversion to an ANSI code
    /// page, which an upstream on Windows meets when its app reads the path through the ANSI
    /// APIs (the "WorstFit" class; CVE-2024-4577 was PHP-CGI under IIS), maps U+00A5 YEN SIGN to
    /// 0x5C `\` under code page 932 (Japanese) and U+20A9 WON SIGN to 0x5C under 949 (Korean).
    /// NFKD keeps both, so the lenient reading never splits there: `/x¥..¥administration/y`
    /// is the public route's here and `/administration/y` to such an app.
    @Test("a character a best-fit code page maps to a back slash never carries a path out of the public route", arguments: [
        "/x%C2%A5..%C2%A5administration/y",                   // x¥..¥administration  (cp932)
        "/x%E2%82%A9..%E2%82%A9administration/y",             // x₩..₩administration  (cp949)
    ])
    func bestFitBackSlash(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// Argued from the README's own words: a look-alike is a segment equal to a route's once
    /// "combining marks [are] dropped", and a combining mark in Unicode is any character of
    /// General Category M (Mn, Mc or Me; Unicode 15 §3.6 D52). `folded` drops only `Mn`, so an
    /// enclosing mark (U+20DD, Me), a spacing mark (U+0903, Mc) or U+1D165 MUSICAL SYMBOL
    /// COMBINING STEM (Mc, canonical combining class 216) after the prefix is no look-alike
    /// here. The common Java idiom `Normalizer.normalize(s, NFD).replaceAll("\\p{M}", "")` drops
    /// all three, and Python's `unicodedata.combining(c)` filter drops U+1D165: to such an app
    /// `/administration⃝/y` is `/administration/y`, here the public route's.
    @Test("a spacing or enclosing combining mark after a protected prefix is a look-alike of it", arguments: [
        "/administration%E2%83%9D/y",                         // administration⃝  (U+20DD, Me)
        "/administration%E0%A4%83/y",                         // administrationः  (U+0903, Mc)
        "/administration%F0%9D%85%A5/y",                      // administration𝅥  (U+1D165, Mc, ccc 216)
    ])
    func spacingAndEnclosingMarks(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }

    /// LOW, and only with a configuration that names both: a route whose prefix is a look-alike
    /// of another route's (`/administration.`, `/administration::$DATA`, `/ADMINI~1`, each
    /// `administration` to IIS) passes the configuration check (only walking prefixes are
    /// refused), and then which of the two a request to it gets depends on the order of the
    /// routes in the file: listed first, the look-alike route is matched as written (and the
    /// request served as `/administration` by IIS under the weaker policy); listed second, it
    /// can never be matched (every request to it is refused 400 as the other's look-alike).
    @Test("a route that imitates another is not decided by the order of the routes", arguments: [
        "/administration.", "/administration::$DATA", "/ADMINI~1",
    ])
    func lookAlikeRouteOrder(_ prefix: String) throws {
        let lookAlike = route("look-alike", prefix, require: .public)
        let protected = route("administration", "/administration", require: .permission(.teammatesView))
        let first = try RouteTableProbe([lookAlike, protected]).name(prefix + "/y")
        let second = try RouteTableProbe([protected, lookAlike]).name(prefix + "/y")
        // Not fixed yet (the configuration should refuse a route that imitates another): held
        // as a known issue so that the fix shows here.
        withKnownIssue("a configuration may name a route that imitates another (review round 8, LOW)") {
            #expect(first == second, "\(prefix)/y: \(first) with the look-alike route first, \(second) with it second")
            #expect(first != "look-alike", "\(prefix)/y, served by IIS as /administration/y, was matched as \(first)")
        }
    }

    /// Argued, LOW: the table reads `admin:x:$DATA` (the named stream `x`, of type `$DATA`) as
    /// `admin`, but cuts a stream only when `:$` is written. On NTFS the type defaults to
    /// `$DATA`, so `administration:x` names the very stream `administration:x:$DATA` names, and
    /// `administration:` the default one: by the table's own model both are `administration`.
    @Test("a stream suffix without its type is cut as the typed one is", arguments: [
        "/administration:x/y", "/administration:/y",
    ])
    func streamWithoutType(_ target: String) throws {
        let matched = try name(target)
        // Not fixed yet: cutting at every `:` would refuse AIP-136 custom methods
        // (`/items:batchGet` under a route `/items`); held as a known issue.
        withKnownIssue("a stream without its type is not cut (review round 8, LOW)") {
            #expect(matched != "app", "\(target) was matched as \(matched)")
        }
    }
}
