import Foundation
import PortcullisCore
import Testing

private let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    Route(name: name, host: nil, prefix: path.split(separator: "/").map(String.init), methods: nil, target: .upstream(app), requirement: require)
}

/// Adversarial review of issue 21, round 5 (7180561): the dot segments a lenient server reads.
@Suite("Review round 5: dot segments with IIS's trailing spaces and streams")
struct ReviewRound5CoreAttackTests {
    let table = RouteTable(routes: [
        route("app", "/", require: .public),
        route("administration", "/administration", require: .permission(.teammatesView)),
    ])

    func name(_ target: String) throws -> String {
        let path = try RequestTarget(parsing: target).path
        switch table.match(host: nil, path: path, method: "GET") {
        case .route(let route): return route.name
        case .noRoute: return "404"
        case .methodNotAllowed(let route): return "405 \(route.name)"
        case .lookAlike(let route): return "400 \(route.name)"
        }
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
