import PortcullisCore

/// A route table of test routes to one upstream, read as the look-alike attack tests read it:
/// the name of the route a request target is matched to, `404`, `405 NAME`, or `400 NAME` for a
/// look-alike of NAME.
struct RouteTableProbe {
    static let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)

    static func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
        Route(name: name, host: nil, prefix: path.split(separator: "/").map(String.init), methods: nil, target: .upstream(app), requirement: require)
    }

    let table: RouteTable

    init(_ routes: [Route]) {
        table = RouteTable(routes: routes)
    }

    func name(_ target: String) throws -> String {
        let path = try RequestTarget(parsing: target).path
        switch table.match(host: nil, path: path, method: "GET") {
        case .route(let route): return route.name
        case .noRoute: return "404"
        case .methodNotAllowed(let route): return "405 \(route.name)"
        case .lookAlike(let route): return "400 \(route.name)"
        }
    }
}
