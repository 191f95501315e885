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
    /// Where the identity provider's SCIM and back-channel logout calls may come from, instead
    /// of the tenant greenlist.
    public let identityProviderNetworks: IdentityProviderNetworks

    public init(
        routes: RouteTable,
        greenlists: [String: Greenlist] = [:],
        tenantGreenlist: String? = nil,
        geoIP: any GeoIPResolver = NoGeoIPResolver(),
        identityProviderNetworks: IdentityProviderNetworks = IdentityProviderNetworks()
    ) {
        self.routes = routes
        self.greenlists = greenlists
        self.tenantGreenlist = tenantGreenlist
        self.geoIP = geoIP
        self.identityProviderNetworks = identityProviderNetworks
    }

    /// Whether the tenant-wide greenlist, when set, holds `client`. The data path asks before it
    /// looks up any credential: an address outside it is refused whoever it claims to be, so it
    /// must not cost a store read.
    /// The identity provider's SCIM and back-channel logout endpoints are not behind it: it is
    /// checked once the target is known.
    public func tenantAdmits(_ client: IPAddress) -> Bool {
        guard let name = tenantGreenlist else { return true }
        return greenlists[name]?.match(client) != nil
    }

    public func evaluate(_ request: AccessRequest, now: Date) -> AccessDecision {
        // The tenant-wide greenlist comes first: outsiders learn nothing, not even the routes.
        // The identity provider's own calls answer to their endpoint's allowlist instead.
        var admittedBy: Greenlist.Entry?
        let parsedTarget = try? RequestTarget(parsing: request.target)
        let endpoint = parsedTarget.flatMap { IdentityProviderNetworks.Endpoint($0.path) }
        if let endpoint, let allowlist = identityProviderNetworks.allowlist(for: endpoint) {
            if !allowlist.contains(where: { $0.contains(request.client) }) {
                return AccessDecision(
                    outcome: .forbidden, reason: .ipNotGreenlisted, route: .controlPlane, target: parsedTarget,
                    refusingGreenlist: endpoint.allowlistKey
                )
            }
        } else if let name = tenantGreenlist {
            // An identity provider endpoint without its own allowlist answers to the tenant
            // greenlist, as everything else; its refusal names the control plane's route so
            // that it is logged as an error (provisioning or logouts are being lost).
            guard let entry = greenlists[name]?.match(request.client) else {
                return AccessDecision(
                    outcome: .forbidden, reason: .ipNotGreenlisted, route: endpoint == nil ? nil : .controlPlane,
                    target: endpoint == nil ? nil : parsedTarget, refusingGreenlist: name
                )
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
        guard let target = parsedTarget else {
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
        case .lookAlike(let imitated):
            return AccessDecision(
                outcome: .badRequest, reason: .lookAlikePath, route: imitated, host: host, target: target, greenlistEntry: admittedBy
            )
        case .route(let matched):
            // A method the query asks the app to take instead (`?_method=DELETE`) must be one
            // the route allows, as the request's own must.
            if let methods = matched.methods, target.methodOverrides.contains(where: { !methods.contains($0) }) {
                return AccessDecision(
                    outcome: .methodNotAllowed, reason: .methodNotAllowed,
                    route: matched, host: host, target: target, greenlistEntry: admittedBy
                )
            }
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
        if let maxAge = route.maxAuthAge, !user.authenticated(within: maxAge, at: now) {
            return decide(.unauthenticated, .reauthenticationRequired, location: location, user: user)
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
