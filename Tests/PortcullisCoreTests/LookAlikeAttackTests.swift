import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 3 (look-alike paths): the gateway folds a segment as
/// a lenient server would (``NormalizedPath/lenientForm(_:)``: NFKD, fullwidth, ignorables) but
/// compares the folded segments one by one, with the path's own separators and dot segments.
/// A server that folds so (the model the fix defends against) folds `．．`, `‥`, `／` and `＼` too,
/// into a dot segment or a separator, and then walks out of the public route.
@Suite("Look-alike paths: folded dot segments and 8.3 short names (review round 3)")
struct LookAlikeAttackTests {
    let probe = RouteTableProbe([
        route("app", "/"),
        route("admin", "/admin", require: .permission(.teammatesView)),
        route("administration", "/administration", require: .permission(.teammatesView)),
        route("public", "/public", require: .public),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    @Test("a segment that folds into a dot segment or a separator never carries a path out of the public route", arguments: [
        "/public/%EF%BC%8E%EF%BC%8E/admin/x",                         // ．． U+FF0E FULLWIDTH FULL STOP twice
        "/public/%E2%80%A5/admin/x",                                  // ‥ U+2025 TWO DOT LEADER (NFKD: "..")
        "/public/%E2%80%A4%E2%80%A4/admin/x",                         // ․․ U+2024 ONE DOT LEADER twice
        "/public/x%EF%BC%8F..%EF%BC%8F..%EF%BC%8Fadmin/y",            // ／ U+FF0F FULLWIDTH SOLIDUS
        "/public/x%EF%BC%BC..%EF%BC%BC..%EF%BC%BCadmin/y",            // ＼ U+FF3C FULLWIDTH REVERSE SOLIDUS
    ])
    func foldedDotSegments(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "public", "\(target) was matched as \(matched)")
    }

    /// IIS answers a directory's 8.3 short name as the directory (on volumes that make short
    /// names, as Windows does on its system volume by default): `/ADMINI~1/` is
    /// `/administration/`. The path is ASCII and ends in neither `.` nor a space, so
    /// ``NormalizedPath/mayImitate`` lets it fall to the `/` route.
    @Test("an 8.3 short name of a protected route is not matched to a less protected route", arguments: [
        "/ADMINI~1/x", "/admini~1/x",
    ])
    func shortNames(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }
}
