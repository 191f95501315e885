import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 5 (7180561): the dot segments a lenient server reads.
@Suite("Review round 5: dot segments with IIS's trailing spaces and streams")
struct ReviewRound5CoreAttackTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("administration", "/administration", require: .permission(.teammatesView)),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    /// The look-alike rules say IIS trims a segment's trailing dots and spaces and cuts an NTFS
    /// stream (`/administration%20`, `/administration::$INDEX_ALLOCATION` are refused), and,
    /// by the model round 4 defends against, folds width (`ＡDMINI～１`). A dot segment is
    /// judged without either: `..` followed by a space (or a no-break space, which NFKD makes
    /// one), or with a stream (`cd ..::$INDEX_ALLOCATION` climbs on NTFS), or fullwidth dots
    /// with a trailing space, is an ordinary segment here, so the path is the public `/`
    /// route's, while such a server reads `..` and serves `/administration/y`.
    @Test("a dot segment with a trailing space or an NTFS stream is not matched to a less protected route", arguments: [
        "/x/..%20/administration/y", "/x/..%C2%A0/administration/y", "/x/..::$INDEX_ALLOCATION/administration/y",
        "/x/%EF%BC%8E%EF%BC%8E%20/administration/y", "/x/%EF%BC%8E%EF%BC%8E::$INDEX_ALLOCATION/administration/y",
    ])
    func dotSegmentsIISReads(_ target: String) throws {
        let matched = try name(target)
        #expect(matched != "app", "\(target) was matched as \(matched)")
    }
}
