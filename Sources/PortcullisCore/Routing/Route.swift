/// One entry of the route table (SPEC §5, §10). A reference type: every request carries its
/// route, and passing one reference is cheaper than copying a dozen fields.
public final class Route: Hashable, Sendable {
    /// Where matched requests go.
    public enum Target: Hashable, Sendable {
        case upstream(Upstream)
        /// Portcullis's own endpoints under `/_portcullis/`.
        case controlPlane
    }

    public let name: String
    /// `nil` matches every host.
    public let host: HostName?
    /// The path prefix as whole segments; empty for `/`.
    public let prefix: [String]
    /// Upper-case method names; `nil` allows every method.
    public let methods: Set<String>?
    public let target: Target
    public let requirement: RouteRequirement
    public let allowBearer: Bool
    public let mfaRequired: Bool
    /// `max_auth_age`: how long ago the user may have signed in at the identity provider; an
    /// older sign-in is sent to sign in again (`prompt=login`, `max_age`). `nil`: any age.
    public let maxAuthAge: Duration?
    /// A stricter greenlist, by name.
    public let greenlist: String?
    public let countries: CountryRule?
    public let timeouts: UpstreamTimeouts
    /// Extra trust root (PEM) for an https upstream; `nil` uses the system's roots.
    public let upstreamCAFile: String?
    /// Match the prefix byte for byte. By default prefixes match without regard to ASCII case, so
    /// `/ADMIN/teammates` cannot slip past a `/admin/teammates` route to a case-insensitive
    /// upstream.
    public let caseSensitive: Bool

    public init(
        name: String,
        host: HostName? = nil,
        prefix: [String],
        methods: Set<String>? = nil,
        target: Target,
        requirement: RouteRequirement,
        allowBearer: Bool = false,
        mfaRequired: Bool = false,
        maxAuthAge: Duration? = nil,
        greenlist: String? = nil,
        countries: CountryRule? = nil,
        timeouts: UpstreamTimeouts = .defaults,
        upstreamCAFile: String? = nil,
        caseSensitive: Bool = false
    ) {
        self.name = name
        self.host = host
        self.prefix = prefix
        self.methods = methods
        self.target = target
        self.requirement = requirement
        self.allowBearer = allowBearer
        self.mfaRequired = mfaRequired
        self.maxAuthAge = maxAuthAge
        self.greenlist = greenlist
        self.countries = countries
        self.timeouts = timeouts
        self.upstreamCAFile = upstreamCAFile
        self.caseSensitive = caseSensitive
    }

    /// The reserved prefix for Portcullis's own endpoints.
    public static let reservedSegment = "_portcullis"

    /// `/_portcullis/…` on every host: login, callback, logout, the admin API, SCIM, console.
    /// The control plane checks each endpoint's own permission; greenlists still apply here.
    public static let controlPlane = Route(
        name: "portcullis",
        prefix: [reservedSegment],
        target: .controlPlane,
        requirement: .public,
        allowBearer: true
    )

    /// The prefix as a path, for messages: `/admin/teammates`.
    public var prefixDescription: String { "/" + prefix.joined(separator: "/") }

    public var upstream: Upstream? {
        if case .upstream(let upstream) = target { return upstream }
        return nil
    }

    public static func == (lhs: Route, rhs: Route) -> Bool {
        lhs === rhs || (lhs.name == rhs.name && lhs.host == rhs.host && lhs.prefix == rhs.prefix
            && lhs.methods == rhs.methods && lhs.target == rhs.target && lhs.requirement == rhs.requirement
            && lhs.allowBearer == rhs.allowBearer && lhs.mfaRequired == rhs.mfaRequired
            && lhs.maxAuthAge == rhs.maxAuthAge
            && lhs.greenlist == rhs.greenlist && lhs.countries == rhs.countries && lhs.timeouts == rhs.timeouts
            && lhs.upstreamCAFile == rhs.upstreamCAFile && lhs.caseSensitive == rhs.caseSensitive)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(prefix)
        hasher.combine(host)
    }
}

/// Time limits for talking to an upstream.
public struct UpstreamTimeouts: Hashable, Sendable {
    public var connect: Duration
    /// From the end of the request to the response head.
    public var response: Duration

    public init(connect: Duration, response: Duration) {
        self.connect = connect
        self.response = response
    }

    public static let defaults = UpstreamTimeouts(connect: .seconds(5), response: .seconds(60))
}
