import Foundation
import PortcullisCore
import PortcullisTestSupport
import Testing

private let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)
private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func route(
    _ name: String, _ path: String, require: RouteRequirement, allowBearer: Bool = false, mfa: Bool = false,
    greenlist: String? = nil, countries: CountryRule? = nil, methods: Set<String>? = nil
) -> Route {
    Route(
        name: name, prefix: path.split(separator: "/").map(String.init), methods: methods, target: .upstream(app),
        requirement: require, allowBearer: allowBearer, mfaRequired: mfa, greenlist: greenlist, countries: countries
    )
}

private func user(
    _ primary: PrimaryRole, secondary: Set<SecondaryRole> = [], method: AuthenticationMethod = .oidc, mfa: Bool = false,
    expiresAt: Date? = now.addingTimeInterval(3_600), revokedAt: Date? = nil, defaults: DefaultMemberPermissions = .allOn
) -> RequestIdentity {
    let role = EffectiveRole(primary: primary, secondary: secondary)
    return .user(AuthenticatedUser(
        userID: "u1", email: "u1@example.com", role: role, permissions: role.permissions(defaults: defaults), method: method,
        hasMFA: mfa, expiresAt: expiresAt, revokedAt: revokedAt
    ))
}

@Suite("AccessPolicy.evaluate")
struct AccessPolicyTests {
    let policy = AccessPolicy(
        routes: RouteTable(routes: [
            route("app", "/", require: .authenticated),
            route("public", "/public", require: .public),
            route("teammates", "/admin/teammates", require: .permission(.teammatesView), allowBearer: true),
            route("super", "/admin/security", require: .role(.primary(.superAdmin)), mfa: true),
            route("vpn-only", "/admin/vpn", require: .authenticated, greenlist: "vpn"),
            route("us-de", "/reports", require: .authenticated, countries: .allow(["US", "DE"])),
            route("not-au", "/export", require: .authenticated, countries: .deny(["AU"])),
            route("answers", "/answers/new", require: .permission(.answersCreate)),
            route("read-only", "/docs", require: .public, methods: ["GET", "HEAD"]),
        ]),
        greenlists: [
            "corp": Greenlist(name: "corp", entries: [
                Greenlist.Entry(range: .literal("198.51.100.0/24"), label: "office"),
                Greenlist.Entry(range: .literal("2001:db8::/32"), label: "vpn"),
                Greenlist.Entry(range: .literal("192.0.2.0/24"), label: "nyc"),
                Greenlist.Entry(range: .literal("203.0.113.0/24"), label: "syd"),
            ]),
            "vpn": Greenlist(name: "vpn", entries: [Greenlist.Entry(range: .literal("2001:db8::/32"), label: "vpn")]),
        ],
        tenantGreenlist: "corp",
        geoIP: StaticGeoIPResolver.documentationRanges
    )

    func decide(_ target: String, from ip: String = "198.51.100.7", as identity: RequestIdentity = .anonymous, method: String = "GET", host: String? = "localhost") -> AccessDecision {
        policy.evaluate(AccessRequest(method: method, host: host, target: target, client: .literal(ip), identity: identity), now: now)
    }

    @Test("outside the tenant greenlist: 403 ip_not_greenlisted before anything else")
    func tenantGreenlist() {
        let decision = decide("/public", from: "8.8.8.8")
        #expect(decision.outcome == .forbidden)
        #expect(decision.reason == .ipNotGreenlisted)
        #expect(decision.refusingGreenlist == "corp")
        #expect(decision.route == nil)
        // Even malformed requests learn nothing more.
        #expect(decide("/%zz", from: "8.8.8.8").reason == .ipNotGreenlisted)
        #expect(decide("/no/such", from: "8.8.8.8", as: user(.superAdmin)).reason == .ipNotGreenlisted)
    }

    @Test("inside: the admitting entry is reported")
    func admittingEntry() {
        let decision = decide("/public")
        #expect(decision.outcome == .allow)
        #expect(decision.reason == .publicRoute)
        #expect(decision.greenlistEntry?.label == "office")
    }

    @Test("a route's stricter list refuses what the tenant list lets in")
    func routeGreenlist() {
        let refused = decide("/admin/vpn", from: "198.51.100.7", as: user(.member))
        #expect(refused.outcome == .forbidden && refused.reason == .ipNotGreenlisted && refused.refusingGreenlist == "vpn")
        let allowed = decide("/admin/vpn", from: "2001:db8::5", as: user(.member))
        #expect(allowed.outcome == .allow && allowed.greenlistEntry?.label == "vpn")
    }

    @Test("country rules use GeoIP", arguments: [
        ("/reports", "192.0.2.1", AccessDecision.Outcome.allow),
        ("/reports", "198.51.100.7", .allow),
        ("/reports", "203.0.113.9", .forbidden),
        ("/reports", "2001:db8::1", .forbidden),
        ("/export", "203.0.113.9", .forbidden),
        ("/export", "192.0.2.1", .allow),
    ])
    func countries(_ target: String, _ ip: String, _ outcome: AccessDecision.Outcome) {
        let decision = decide(target, from: ip, as: user(.member))
        #expect(decision.outcome == outcome)
        if outcome == .forbidden { #expect(decision.reason == .countryBlocked) }
        #expect(decision.location != nil)
    }

    @Test("an unknown country fails an allow-list and passes a deny-list")
    func unknownCountry() {
        let policy = AccessPolicy(
            routes: RouteTable(routes: [
                route("allow", "/allow", require: .public, countries: .allow(["US"])),
                route("deny", "/deny", require: .public, countries: .deny(["US"])),
            ]),
            geoIP: StaticGeoIPResolver.documentationRanges
        )
        let unknown = IPAddress.literal("100.100.100.100")
        #expect(policy.evaluate(AccessRequest(method: "GET", host: nil, target: "/allow", client: unknown), now: now).reason == .countryBlocked)
        #expect(policy.evaluate(AccessRequest(method: "GET", host: nil, target: "/deny", client: unknown), now: now).outcome == .allow)
    }

    @Test("anonymous on a signed-in route: unauthenticated, login_required")
    func anonymous() {
        let decision = decide("/app")
        #expect(decision.outcome == .unauthenticated)
        #expect(decision.reason == .loginRequired)
        #expect(decision.status == 401)
    }

    @Test("a rejected credential keeps its reason")
    func rejected() {
        #expect(decide("/app", as: .rejected(.invalidToken)).reason == .invalidToken)
        #expect(decide("/app", as: .rejected(.userDeactivated)).outcome == .unauthenticated)
    }

    @Test("expired and revoked sessions are sent to login with their reason")
    func expiredAndRevoked() {
        let expired = decide("/app", as: user(.admin, expiresAt: now))
        #expect(expired.outcome == .unauthenticated && expired.reason == .sessionExpired)
        let revoked = decide("/app", as: user(.admin, revokedAt: now.addingTimeInterval(-1)))
        #expect(revoked.outcome == .unauthenticated && revoked.reason == .sessionRevoked)
        let expiredToken = decide("/admin/teammates", as: user(.admin, method: .bearer, expiresAt: now.addingTimeInterval(-5)))
        #expect(expiredToken.reason == .tokenExpired)
    }

    @Test("bearer credentials only where the route allows them")
    func bearer() {
        #expect(decide("/app", as: user(.admin, method: .bearer)).reason == .bearerNotAllowed)
        #expect(decide("/app", as: user(.admin, method: .apiToken)).reason == .bearerNotAllowed)
        #expect(decide("/admin/teammates", as: user(.admin, method: .bearer)).outcome == .allow)
        #expect(decide("/admin/teammates", as: user(.admin, method: .apiToken)).outcome == .allow)
    }

    @Test("permission requirements", arguments: [
        (PrimaryRole.member, AccessDecision.Outcome.forbidden),
        (.setupAdmin, .forbidden),
        (.admin, .allow),
        (.superAdmin, .allow),
    ])
    func permission(_ primary: PrimaryRole, _ outcome: AccessDecision.Outcome) {
        let decision = decide("/admin/teammates", as: user(primary))
        #expect(decision.outcome == outcome)
        #expect(decision.reason == (outcome == .allow ? .permissionGranted : .permissionRequired))
        if outcome == .forbidden { #expect(decision.requirement == .permission(.teammatesView)) }
    }

    @Test("default member permissions decide the next request")
    func defaultMemberSwitch() {
        #expect(decide("/answers/new", as: user(.member)).outcome == .allow)
        var off = DefaultMemberPermissions.allOn
        off.answersCreate = false
        let decision = decide("/answers/new", as: user(.member, defaults: off))
        #expect(decision.outcome == .forbidden && decision.reason == .permissionRequired)
    }

    @Test("role requirements and MFA")
    func roleAndMFA() {
        #expect(decide("/admin/security", as: user(.admin, mfa: true)).reason == .roleRequired)
        #expect(decide("/admin/security", as: user(.superAdmin, mfa: false)).reason == .mfaRequired)
        #expect(decide("/admin/security", as: user(.superAdmin, mfa: false)).outcome == .unauthenticated)
        #expect(decide("/admin/security", as: user(.superAdmin, mfa: true)).outcome == .allow)
    }

    @Test("a route's max_auth_age: a sign-in at the IdP older than it, or of unknown age, must sign in afresh (issue 21 item 6)")
    func maxAuthAge() {
        let recent = Route(name: "recent", prefix: ["recent"], target: .upstream(app), requirement: .authenticated, allowBearer: true,
                           maxAuthAge: .seconds(300))
        let policy = AccessPolicy(routes: RouteTable(routes: [recent]))
        func decide(signedIn: Date?, method: AuthenticationMethod = .oidc) -> AccessDecision {
            let role = EffectiveRole(primary: .member)
            let user = AuthenticatedUser(
                userID: "u1", email: "u1@example.com", role: role, permissions: role.permissions(defaults: .allOn), method: method,
                expiresAt: now.addingTimeInterval(3_600), authenticatedAt: signedIn
            )
            return policy.evaluate(AccessRequest(method: "GET", host: "localhost", target: "/recent", client: IPAddress(ipv4: 198, 51, 100, 7),
                                                 identity: .user(user)), now: now)
        }
        #expect(decide(signedIn: now.addingTimeInterval(-300)).outcome == .allow)
        #expect(decide(signedIn: now.addingTimeInterval(-301)).reason == .reauthenticationRequired)
        #expect(decide(signedIn: now.addingTimeInterval(-301)).outcome == .unauthenticated)
        #expect(decide(signedIn: nil).reason == .reauthenticationRequired, "an unknown sign-in time is not recent")
        #expect(decide(signedIn: nil, method: .apiToken).reason == .reauthenticationRequired, "API tokens carry no sign-in")
        #expect(decide(signedIn: now.addingTimeInterval(-10), method: .bearer).outcome == .allow)
    }

    @Test("path tricks reach the stricter route's policy")
    func pathTricks() {
        for target in ["/public/../admin/teammates", "/public/%2e%2e/admin/teammates", "/public%2F..%2Fadmin%2Fteammates",
                       "/public/..;/admin/teammates", "//admin//teammates", "/public\\..\\admin\\teammates"] {
            let decision = decide(target, as: user(.member))
            #expect(decision.route?.name == "teammates", "\(target)")
            #expect(decision.reason == .permissionRequired, "\(target)")
        }
    }

    @Test("bad requests and unknown paths")
    func badAndUnknown() {
        #expect(decide("/%zz").reason == .badPath)
        #expect(decide("/%zz").status == 400)
        #expect(decide("/public", host: "evil.com/x").reason == .badHost)
        #expect(decide("/docs", method: "POST").reason == .methodNotAllowed)
        #expect(decide("/docs", method: "POST").status == 405)
        let noRoutes = AccessPolicy(routes: RouteTable(routes: []))
        let decision = noRoutes.evaluate(AccessRequest(method: "GET", host: nil, target: "/x", client: .literal("1.2.3.4")), now: now)
        #expect(decision.outcome == .notFound && decision.reason == .noRoute && decision.status == 404)
    }

    @Test("the control plane is reachable to anyone on the greenlist; it checks its own permissions")
    func controlPlane() {
        let decision = decide("/_portcullis/login")
        #expect(decision.outcome == .allow)
        #expect(decision.route?.target == .controlPlane)
        #expect(decide("/_portcullis/login", from: "8.8.8.8").reason == .ipNotGreenlisted)
    }

    @Test("every reason code has words for people")
    func explanations() {
        for code in ReasonCode.allCases {
            #expect(!code.explanation.isEmpty)
        }
    }

    @Test("the identity provider's SCIM and back-channel logout calls answer to their own allowlists, not the tenant greenlist (issue 21 item 14)")
    func identityProviderEndpoints() throws {
        let idp = try IPRange(parsing: "20.190.128.0/18")
        let guarded = AccessPolicy(
            routes: policy.routes, greenlists: policy.greenlists, tenantGreenlist: "corp",
            identityProviderNetworks: IdentityProviderNetworks(scim: [idp], backchannelLogout: [idp])
        )
        func decide(_ target: String, from ip: String, in policy: AccessPolicy) -> AccessDecision {
            policy.evaluate(AccessRequest(method: "POST", host: "localhost", target: target, client: .literal(ip), identity: .anonymous), now: now)
        }
        for target in ["/_portcullis/scim/v2/Users", "/_portcullis/backchannel-logout"] {
            #expect(decide(target, from: "20.190.130.1", in: guarded).isAllowed, "\(target) from the IdP")
            let elsewhere = decide(target, from: "203.0.113.9", in: guarded)
            #expect(elsewhere.reason == .ipNotGreenlisted && elsewhere.route == .controlPlane, "\(target) from elsewhere")
            #expect(elsewhere.refusingGreenlist?.hasPrefix("identity.") == true)
            // Without an allowlist, the tenant greenlist holds for them too (refused from outside
            // it, named as the control plane's so that the refusal is logged as an error).
            let unguarded = AccessPolicy(routes: policy.routes, greenlists: policy.greenlists, tenantGreenlist: "corp")
            let outside = decide(target, from: "20.190.130.1", in: unguarded)
            #expect(outside.reason == .ipNotGreenlisted && outside.route == .controlPlane && outside.refusingGreenlist == "corp", "\(target)")
            #expect(decide(target, from: "198.51.100.7", in: unguarded).isAllowed, "\(target) from inside the tenant greenlist")
        }
        // Only those endpoints, spelled as the control plane routes them.
        for target in ["/_portcullis/login", "/_portcullis/api/v1/me", "/_PORTCULLIS/scim/v2/Users", "/_portcullis/backchannel-logout/x", "/app"] {
            #expect(decide(target, from: "20.190.130.1", in: guarded).reason == .ipNotGreenlisted, "\(target)")
        }
    }
}
