#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decides every request (SPEC §4, §5): greenlists, the route, country rules, identity and the
/// route's requirement. Synchronous, never throws, an answer for every input.
public struct AccessPolicy: Sendable {
    public let routes: RouteTable
    public let greenlists: [String: Greenlist]
    /// Every request must come from this list, when set.
    public let tenantGreenlist: String?
    public let geoIP: any GeoIPResolver

    public init(
        routes: RouteTable,
        greenlists: [String: Greenlist] = [:],
        tenantGreenlist: String? = nil,
        geoIP: any GeoIPResolver = NoGeoIPResolver()
    ) {
        self.routes = routes
        self.greenlists = greenlists
        self.tenantGreenlist = tenantGreenlist
        self.geoIP = geoIP
    }

    public func evaluate(_ request: AccessRequest, now: Date) -> AccessDecision {
        // The tenant-wide greenlist comes first: outsiders learn nothing, not even the routes.
        var admittedBy: Greenlist.Entry?
        if let name = tenantGreenlist {
            guard let entry = greenlists[name]?.match(request.client) else {
                return AccessDecision(outcome: .forbidden, reason: .ipNotGreenlisted, refusingGreenlist: name)
            }
            admittedBy = entry
        }

        var host: HostName?
        if let raw = request.host {
            guard let parsed = HostName(raw) else {
                return AccessDecision(outcome: .badRequest, reason: .badHost, greenlistEntry: admittedBy)
            }
            host = parsed
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return AccessDecision(outcome: .badRequest, reason: .badPath, host: host, greenlistEntry: admittedBy)
        }

        let route: Route
        switch routes.match(host: host, path: target.path, method: request.method) {
        case .noRoute:
            return AccessDecision(outcome: .notFound, reason: .noRoute, host: host, target: target, greenlistEntry: admittedBy)
        case .methodNotAllowed(let matched):
            return AccessDecision(
                outcome: .methodNotAllowed, reason: .methodNotAllowed,
                route: matched, host: host, target: target, greenlistEntry: admittedBy
            )
        case .route(let matched):
            route = matched
        }

        func decide(
            _ outcome: AccessDecision.Outcome,
            _ reason: ReasonCode,
            refusingGreenlist: String? = nil,
            location: GeoLocation? = nil,
            requirement: RouteRequirement? = nil,
            user: AuthenticatedUser? = nil
        ) -> AccessDecision {
            AccessDecision(
                outcome: outcome, reason: reason, route: route, host: host, target: target,
                greenlistEntry: admittedBy, refusingGreenlist: refusingGreenlist,
                location: location, requirement: requirement, user: user
            )
        }

        if let name = route.greenlist {
            guard let entry = greenlists[name]?.match(request.client) else {
                return decide(.forbidden, .ipNotGreenlisted, refusingGreenlist: name)
            }
            admittedBy = entry
        }

        var location: GeoLocation?
        if let rule = route.countries {
            let found = geoIP.locate(request.client)
            location = found
            guard rule.permits(found.countryCode) else {
                return decide(.forbidden, .countryBlocked, location: found)
            }
        }

        if route.requirement == .public {
            // A credential that would be refused on a protected route (revoked, expired, a
            // bearer where bearers are not allowed) makes the request anonymous: the upstream
            // learns nothing about who it was.
            if case .user(let user) = request.identity, user.isValid(at: now), route.allowBearer || !user.method.isBearerCredential {
                return decide(.allow, .publicRoute, location: location, user: user)
            }
            return decide(.allow, .publicRoute, location: location)
        }

        let user: AuthenticatedUser
        switch request.identity {
        case .anonymous:
            return decide(.unauthenticated, .loginRequired, location: location)
        case .rejected(let reason):
            // A credential that checked out but asked for what it may not do is forbidden.
            let outcome: AccessDecision.Outcome = reason == .actAsNotAllowed || reason == .actAsUserUnknown ? .forbidden : .unauthenticated
            return decide(outcome, reason, location: location)
        case .user(let authenticated):
            user = authenticated
        }
        if user.method.isBearerCredential, !route.allowBearer {
            return decide(.unauthenticated, .bearerNotAllowed, location: location)
        }
        if !user.isValid(at: now) {
            return decide(.unauthenticated, user.invalidityReason(at: now), location: location)
        }
        if route.mfaRequired, !user.hasMFA {
            return decide(.unauthenticated, .mfaRequired, location: location, user: user)
        }

        switch route.requirement {
        case .public, .authenticated:
            return decide(.allow, .authenticated, location: location, user: user)
        case .permission(let permission):
            if user.permissions.contains(permission) {
                return decide(.allow, .permissionGranted, location: location, user: user)
            }
            return decide(.forbidden, .permissionRequired, location: location, requirement: route.requirement, user: user)
        case .role(let role):
            if user.role.satisfies(role) {
                return decide(.allow, .roleGranted, location: location, user: user)
            }
            return decide(.forbidden, .roleRequired, location: location, requirement: route.requirement, user: user)
        }
    }
}
