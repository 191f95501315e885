import Foundation
import PortcullisCore
import Testing

private let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    Route(name: name, host: nil, prefix: path.split(separator: "/").map(String.init), methods: nil, target: .upstream(app), requirement: require)
}

/// Adversarial review of issue 21, round 6 (8400d5b): what the lenient reading of a path
/// (e3cfcad) refuses that is nobody's look-alike.
@Suite("Review round 6: the lenient reading and routes of their own")
struct ReviewRound6CoreAttackTests {
    /// A route whose own prefix holds a letter that folding changes (an accented letter, a
    /// non-ASCII capital), which the configuration reader accepts as written. Since e3cfcad
    /// every non-ASCII segment that folds differently makes a lenient reading (before, only
    /// one that folds to a dot segment or a separator did); the reading's segments are
    /// folded (`cafe`), so it no longer matches the route's own prefix (`café`), falls to
    /// `/` or to nothing, and the request, to the route exactly as configured, is refused as
    /// a look-alike of its own route. Every request to such a route is refused.
    @Test("a route whose prefix holds a letter that folds is reachable at its own path", arguments: [
        ("/café", "/caf%C3%A9/menu"), ("/café", "/café"), ("/München", "/M%C3%BCnchen/wiki"), ("/español", "/espa%C3%B1ol/"),
        ("/Новости", "/%D0%9D%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/today"),
    ])
    func routeWithFoldingPrefix(_ prefix: String, _ target: String) throws {
        let matched = try RouteTableProbe([route("site", "/", require: .public), route("own", prefix)]).name(target)
        #expect(matched == "own", "\(target), under the route \(prefix), was matched as \(matched)")
        let matchedAlone = try RouteTableProbe([route("own", prefix)]).name(target)
        #expect(matchedAlone == "own", "\(target), under the only route \(prefix), was matched as \(matchedAlone)")
    }
}
