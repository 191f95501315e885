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

    /// By route name, the routes whose prefix that route's own imitates
    /// (``imitations(among:)``): a request to such a route is refused as a look-alike of the
    /// other, whatever the order of the two in the configuration (which refuses them anyway).
    let imitated: [String: [Route]]

    /// Every segment of every prefix, ASCII lower-cased: a format suffix is worth reading
    /// (``NormalizedPath/suffixReading(from:relevant:)``) only when what it leaves is one.
    let prefixSegments: Set<String>

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
        imitated = Dictionary(grouping: Self.imitations(among: all), by: \.route.name).mapValues { $0.map(\.imitated) }
        prefixSegments = Set(all.flatMap { $0.prefix.map { $0.lowercased() } })
    }

    /// Each pair of routes where the first's prefix is not under the second's but imitates it
    /// (``NormalizedPath/imitates(_:)``: `/administration.`, `/administration::$DATA`,
    /// `/ADMINI~1` or `/ＡDMINISTRATION/x` beside `/administration`) on a host both can
    /// answer: a lenient upstream serves the first's requests as the second's path. Folding
    /// imitates both ways (`/administration` is `/administration.` folded too): the prefix
    /// that is already as a lenient server reads it (but for ASCII case) is the one imitated.
    public static func imitations(among routes: [Route]) -> [(route: Route, imitated: Route)] {
        func imitates(_ route: Route, _ other: Route) -> Bool {
            if let host = route.host, let otherHost = other.host, host != otherHost { return false }
            let path = NormalizedPath(segments: route.prefix)
            return !path.hasPrefix(other.prefix, caseSensitive: other.caseSensitive) && path.imitates(other.prefix)
        }
        func isPlain(_ route: Route) -> Bool {
            route.prefix.allSatisfy { NormalizedPath.lenientForm($0) == $0.lowercased() && $0.allSatisfy(\.isASCII) }
        }
        var pairs: [(route: Route, imitated: Route)] = []
        for route in routes where !route.prefix.isEmpty {
            for other in routes where other.name != route.name && !other.prefix.isEmpty && imitates(route, other) {
                if isPlain(route), !isPlain(other), imitates(other, route) { continue }
                pairs.append((route, other))
            }
        }
        return pairs
    }

    /// A path whose reading by a lenient server or an app's router is another route's, or
    /// none, is refused as a look-alike (of that other route, when there is one). The readings:
    /// - ``NormalizedPath/lenientReading``: its walking segments split and applied;
    /// - ``NormalizedPath/streamReading(from:)``: its segments past the route's prefix cut at a
    ///   colon (an NTFS stream): `/administration:x/y` is not the public `/` route's when
    ///   `/administration` is a route;
    /// - ``NormalizedPath/suffixReading(from:relevant:)``: cut at a dot (a format suffix):
    ///   `/staff/users.json` is not `/staff`'s when `/staff/users` is a route;
    /// - ``NormalizedPath/pathInfoReading()``: without a script segment (PATH_INFO):
    ///   `/index.php/admin` is not the public route's when `/admin` is a route, nor
    ///   `/blog/index.php/admin` a route `/blog/index.php`'s when `/blog/admin` is one.
    /// So a custom method or a format of a route's own collection (`/items:batchGet`,
    /// `/items.json` beside a route `/items`) needs a route of its own.
    public func match(host: HostName?, path: NormalizedPath, method: String) -> Match {
        match(host: host, path: path, method: method, rereading: .all)
    }

    /// The readings a match checks (``match(host:path:method:)``): within the match of a
    /// reading, those already applied are not checked again.
    private struct Readings: OptionSet {
        let rawValue: UInt8
        static let walking = Readings(rawValue: 1)
        static let streams = Readings(rawValue: 2)
        static let suffixes = Readings(rawValue: 4)
        static let pathInfo = Readings(rawValue: 8)
        static let all: Readings = [.walking, .streams, .suffixes, .pathInfo]
    }

    private func match(host: HostName?, path: NormalizedPath, method: String, rereading: Readings) -> Match {
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
            if !imitated.isEmpty, let other = imitated[route.name]?.first(where: { $0.host == nil || $0.host == host }) {
                return .lookAlike(other)
            }
            if mayImitate, rereading.contains(.walking), let reading = path.lenientReading,
               otherRoute(reading, route, host: host, method: method, rereading: []) != nil {
                return .lookAlike(route)
            }
            let start = route.prefix.count
            if mayImitate, rereading.contains(.streams), let reading = path.streamReading(from: start),
               let other = otherRoute(reading, route, host: host, method: method, rereading: rereading.subtracting(.streams)) {
                return .lookAlike(other)
            }
            if rereading.contains(.suffixes),
               let reading = path.suffixReading(from: start, relevant: { mayImitate || prefixSegments.contains($0.lowercased()) }),
               let other = otherRoute(reading, route, host: host, method: method, rereading: rereading.subtracting(.suffixes)) {
                return .lookAlike(other)
            }
            // PATH_INFO: refused when its reading is another route that claims part of it (a
            // prefix past the script: `/admin` for `/index.php/admin`), not when the reading only
            // falls to a route above the script (`/wiki/index.php/Main_Page` to `/`).
            if rereading.contains(.pathInfo), let (reading, script) = path.pathInfoReading() {
                switch match(host: host, path: reading, method: method, rereading: rereading.subtracting(.pathInfo)) {
                case .route(let other), .methodNotAllowed(let other):
                    if other != route, other.prefix.count > script { return .lookAlike(other) }
                case .lookAlike(let other):
                    return .lookAlike(other)
                case .noRoute:
                    break
                }
            }
            if let methods = route.methods, !methods.contains(method) {
                return .methodNotAllowed(route)
            }
            return .route(route)
        }
        return .noRoute
    }

    /// The route `reading` is matched to when it is not `route`: that route, or `route` itself
    /// when the reading has none (or is a look-alike); `nil` when it is `route`'s too.
    private func otherRoute(_ reading: NormalizedPath, _ route: Route, host: HostName?, method: String, rereading: Readings) -> Route? {
        switch match(host: host, path: reading, method: method, rereading: rereading) {
        case .route(let other), .methodNotAllowed(let other): other == route ? nil : other
        case .lookAlike(let other): other
        case .noRoute: route
        }
    }

    public func route(named name: String) -> Route? {
        routes.first { $0.name == name }
    }
}
