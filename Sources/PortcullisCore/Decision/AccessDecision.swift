/// The answer for one request: an outcome, a stable reason code and what led there.
public struct AccessDecision: Hashable, Sendable {
    public enum Outcome: String, Hashable, Sendable {
        case allow
        /// Who the requester is is unknown or no longer valid: send them to login (401).
        case unauthenticated
        /// Known, or refused before identity matters, and not allowed (403).
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case badRequest = "bad_request"
    }

    public let outcome: Outcome
    public let reason: ReasonCode
    public let route: Route?
    public let host: HostName?
    public let target: RequestTarget?
    /// The greenlist entry that admitted the client (the most specific of the lists checked).
    public let greenlistEntry: Greenlist.Entry?
    /// The list that refused the client, for `ip_not_greenlisted`.
    public let refusingGreenlist: String?
    /// Set when a country rule needed a GeoIP answer.
    public let location: GeoLocation?
    /// What was missing, for permission and role refusals: `teammates.view`.
    public let requirement: RouteRequirement?
    public let user: AuthenticatedUser?

    public init(
        outcome: Outcome,
        reason: ReasonCode,
        route: Route? = nil,
        host: HostName? = nil,
        target: RequestTarget? = nil,
        greenlistEntry: Greenlist.Entry? = nil,
        refusingGreenlist: String? = nil,
        location: GeoLocation? = nil,
        requirement: RouteRequirement? = nil,
        user: AuthenticatedUser? = nil
    ) {
        self.outcome = outcome
        self.reason = reason
        self.route = route
        self.host = host
        self.target = target
        self.greenlistEntry = greenlistEntry
        self.refusingGreenlist = refusingGreenlist
        self.location = location
        self.requirement = requirement
        self.user = user
    }

    public var isAllowed: Bool { outcome == .allow }

    public var status: Int {
        switch outcome {
        case .allow: 200
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .badRequest: 400
        }
    }
}
