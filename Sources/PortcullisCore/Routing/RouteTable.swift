/// Routes by host and path prefix: the longest prefix wins, a route naming the host beats one
/// that does not, and no match is a refusal, never a silent allow (SPEC §5).
public struct RouteTable: Hashable, Sendable {
    public enum Match: Hashable, Sendable {
        case route(Route)
        case noRoute
        /// The best route does not allow this method. No fall-through to a shorter prefix:
        /// that would let a method slip past a stricter route.
        case methodNotAllowed(Route)
        /// The path is not the route's, but a server that folds Unicode case or width, drops
        /// combining marks or trims trailing dots and spaces would serve it as the route's
        /// (``NormalizedPath/imitates(_:)``): refused, never matched to a shorter prefix.
        case lookAlike(Route)
    }

    /// Ordered by prefix length (longest first), then host-specific before any-host.
    public let routes: [Route]

    /// The configured routes plus the reserved control-plane route.
    public init(routes configured: [Route]) {
        var all = configured.filter { $0.prefix.first?.lowercased() != Route.reservedSegment }
        all.append(.controlPlane)
        routes = all.enumerated().sorted { a, b in
            if a.element.prefix.count != b.element.prefix.count {
                return a.element.prefix.count > b.element.prefix.count
            }
            if (a.element.host != nil) != (b.element.host != nil) {
                return a.element.host != nil
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    public func match(host: HostName?, path: NormalizedPath, method: String) -> Match {
        match(host: host, path: path, method: method, rereading: true)
    }

    /// `rereading`: whether to match again the path a lenient server would read
    /// (``NormalizedPath/lenientReading``); not within that second match, whose walking
    /// segments are already split and applied.
    private func match(host: HostName?, path: NormalizedPath, method: String, rereading: Bool) -> Match {
        let mayImitate = path.mayImitate
        // The path's segments folded once per request, not once per route (NFKD can multiply a
        // segment many times over).
        var folded: [String]?
        for route in routes {
            if let wanted = route.host, wanted != host { continue }
            guard path.hasPrefix(route.prefix, caseSensitive: route.caseSensitive) else {
                if mayImitate, !route.prefix.isEmpty, route.prefix.count <= path.segments.count {
                    let forms = folded ?? path.segments.prefix(routes.first?.prefix.count ?? 0).map(NormalizedPath.lenientForm)
                    folded = forms
                    if path.imitates(route.prefix, lenientSegments: forms) { return .lookAlike(route) }
                }
                continue
            }
            if mayImitate, rereading, let reading = path.lenientReading {
                switch match(host: host, path: reading, method: method, rereading: false) {
                case .route(let other), .methodNotAllowed(let other):
                    if other != route { return .lookAlike(route) }
                case .noRoute, .lookAlike:
                    return .lookAlike(route)
                }
            }
            if let methods = route.methods, !methods.contains(method) {
                return .methodNotAllowed(route)
            }
            return .route(route)
        }
        return .noRoute
    }

    public func route(named name: String) -> Route? {
        routes.first { $0.name == name }
    }
}
