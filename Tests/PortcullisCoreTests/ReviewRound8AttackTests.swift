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
    /// `administration` to IIS) passed the configuration check (only walking prefixes were
    /// refused), and then which of the two a request to it got depended on the order of the
    /// routes in the file: listed first, the look-alike route was matched as written (and the
    /// request served as `/administration` by IIS under the weaker policy); listed second, it
    /// could never be matched. Now the configuration refuses such a route
    /// (ConfigurationFileTests), and a table built with one anyway refuses its requests as
    /// look-alikes of the other, in either order.
    @Test("a route that imitates another is not decided by the order of the routes", arguments: [
        "/administration.", "/administration::$DATA", "/ADMINI~1", "/%EF%BC%A1DMINISTRATION", "/administration%20",
    ])
    func lookAlikeRouteOrder(_ written: String) throws {
        let prefix = try RequestTarget(parsing: written).path.description
        let lookAlike = route("look-alike", prefix, require: .public)
        let protected = route("administration", "/administration", require: .permission(.teammatesView))
        let first = try RouteTableProbe([lookAlike, protected]).name(written + "/y")
        let second = try RouteTableProbe([protected, lookAlike]).name(written + "/y")
        #expect(first == second, "\(written)/y: \(first) with the look-alike route first, \(second) with it second")
        #expect(first == "400 administration", "\(written)/y, served by IIS as /administration/y, was matched as \(first)")
        #expect(try RouteTableProbe([lookAlike, protected]).name("/administration/y") == "administration")
    }

    /// Argued, LOW: the table read `admin:x:$DATA` (the named stream `x`, of type `$DATA`) as
    /// `admin`, but cut a stream only when `:$` was written. On NTFS the type defaults to
    /// `$DATA`, so `administration:x` names the very stream `administration:x:$DATA` names, and
    /// `administration:` the default one: by the table's own model both are `administration`.
    /// Such a segment is not refused for imitating a route (an API's custom method is written
    /// so: `/items:batchGet`, AIP-136), but a path whose segments past its route's prefix,
    /// cut at a colon, are another route's is refused.
    @Test("a stream suffix without its type is cut as the typed one is", arguments: [
        "/administration:x/y", "/administration:/y", "/administration:x", "/administration%EF%BC%9Ax/y",
        "/:x/administration/y", "/x/..:y/administration/y", "/x/..%EF%BC%9Ay/administration/y",
        "/x%EF%BC%8F..%EF%BC%8Fadministration:y/z",
    ])
    func streamWithoutType(_ target: String) throws {
        let matched = try name(target)
        #expect(matched.hasPrefix("400"), "\(target) was matched as \(matched)")
    }

    /// What the typeless cut must not refuse: a colon past the route's own prefix that stays in
    /// that route (`/administration/users:batchGet`, `/app:x` when no route is `/app`), and a
    /// custom method that has a route of its own.
    @Test("a colon that stays within its route, or a custom method routed as written, is matched")
    func customMethodsStillMatched() throws {
        #expect(try name("/administration/users:batchGet") == "administration")
        #expect(try name("/administration:x/y".replacingOccurrences(of: "administration", with: "reports")) == "app")
        #expect(try name("/wiki/User:Alice") == "app")
        let api = RouteTableProbe([
            route("app", "/", require: .public),
            route("items", "/v1/items"),
            route("items-batch", "/v1/items:batchGet"),
        ])
        #expect(try api.name("/v1/items:batchGet") == "items-batch")
        #expect(try api.name("/v1/items/abc:cancel") == "items")
        // Without a route of its own, a custom method on the route's collection is refused:
        // by the NTFS model it is `/v1/items`, not the public route's.
        #expect(try api.name("/v1/items:batchDelete") == "400 items")
    }
}
