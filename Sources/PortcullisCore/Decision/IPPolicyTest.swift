#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The answer to "would this IP (optionally on this route, as this user) be allowed, by which
/// rule, and where is it?" (SPEC §4), for the CLI and the admin API.
public struct IPPolicyTest: Hashable, Sendable, Encodable {
    /// One rule that was checked.
    public struct Check: Hashable, Sendable, Codable {
        public enum Kind: String, Hashable, Sendable, Codable {
            case tenantGreenlist = "tenant_greenlist"
            case routeGreenlist = "route_greenlist"
            case countries
            case requirement
        }

        public let kind: Kind
        public let passed: Bool
        /// The greenlist or rule checked: `corp`, `allow US, DE`.
        public let rule: String
        /// The entry that admitted the address, for greenlists.
        public let entry: Greenlist.Entry?
        public let detail: String
    }

    public let ip: String
    public let allowed: Bool
    /// Why not, when refused.
    public let reason: ReasonCode?
    /// The check that decided: the first that failed, or the last that passed.
    public let decidedBy: Check?
    public let checks: [Check]
    public let location: GeoLocation
    /// The special-purpose range the address is in (`loopback`, `private_network`, …), if any.
    public let scope: AddressScope?
    /// Where the address is, in words: never empty (`Sydney, Australia`, `loopback (this
    /// machine)`, `unknown`).
    public let place: String
    public let route: String?

    enum CodingKeys: String, CodingKey {
        case ip, allowed, reason, checks, location, route
        case decidedBy = "decided_by"
    }

    enum LocationKeys: String, CodingKey {
        case countryCode = "country_code"
        case country, city, asn, organization, scope, summary
    }

    /// `location` carries the GeoIP fields it has and always `summary` (and `scope` for
    /// special-purpose ranges), so it is never an empty object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ip, forKey: .ip)
        try container.encode(allowed, forKey: .allowed)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(decidedBy, forKey: .decidedBy)
        try container.encode(checks, forKey: .checks)
        try container.encodeIfPresent(route, forKey: .route)
        var place = container.nestedContainer(keyedBy: LocationKeys.self, forKey: .location)
        try place.encodeIfPresent(location.countryCode, forKey: .countryCode)
        try place.encodeIfPresent(location.countryName, forKey: .country)
        try place.encodeIfPresent(location.city, forKey: .city)
        try place.encodeIfPresent(location.asn, forKey: .asn)
        try place.encodeIfPresent(location.organization, forKey: .organization)
        try place.encodeIfPresent(scope, forKey: .scope)
        try place.encode(self.place, forKey: .summary)
    }
}

extension IPPolicyTest.Check {
    enum CodingKeys: String, CodingKey { case kind, passed, rule, entry, detail }
}

extension AccessPolicy {
    /// Tests an address against the tenant greenlist and, with a route, its greenlist, its
    /// country rule and (with a user) its requirement.
    public func test(address: IPAddress, route routeName: String? = nil, user: AuthenticatedUser? = nil, now: Date) -> IPPolicyTest {
        let location = geoIP.locate(address)
        var checks: [IPPolicyTest.Check] = []
        var refusal: ReasonCode?

        func checkList(_ name: String, _ kind: IPPolicyTest.Check.Kind) {
            let entry = greenlists[name]?.match(address)
            checks.append(IPPolicyTest.Check(
                kind: kind, passed: entry != nil, rule: name, entry: entry,
                detail: entry.map { "\(address) is in \($0.range) (\($0.label))" } ?? "no entry of \(name) contains \(address)"
            ))
            if entry == nil, refusal == nil { refusal = .ipNotGreenlisted }
        }

        if let tenant = tenantGreenlist {
            checkList(tenant, .tenantGreenlist)
        }
        let route = routeName.flatMap { routes.route(named: $0) }
        if let route {
            if let list = route.greenlist { checkList(list, .routeGreenlist) }
            if let rule = route.countries {
                let passed = rule.permits(location.countryCode)
                let description: String
                switch rule {
                case .allow(let codes): description = "allow " + codes.sorted().joined(separator: ", ")
                case .deny(let codes): description = "deny " + codes.sorted().joined(separator: ", ")
                }
                checks.append(IPPolicyTest.Check(
                    kind: .countries, passed: passed, rule: description, entry: nil,
                    detail: "\(address) is located in \(location.countryCode ?? "an unknown country")"
                ))
                if !passed, refusal == nil { refusal = .countryBlocked }
            }
            if let user, refusal == nil {
                let decision = evaluate(
                    AccessRequest(method: route.methods?.sorted().first ?? "GET", host: route.host?.value,
                                  target: route.prefixDescription, client: address, identity: .user(user)),
                    now: now
                )
                checks.append(IPPolicyTest.Check(
                    kind: .requirement, passed: decision.isAllowed, rule: route.requirement.description, entry: nil,
                    detail: "\(user.email): \(decision.reason.rawValue)"
                ))
                if !decision.isAllowed { refusal = decision.reason }
            }
        }
        let decidedBy = checks.first { !$0.passed } ?? checks.last
        return IPPolicyTest(
            ip: address.description, allowed: refusal == nil, reason: refusal, decidedBy: decidedBy,
            checks: checks, location: location, scope: AddressScope(address), place: location.summary(for: address), route: route?.name
        )
    }
}
