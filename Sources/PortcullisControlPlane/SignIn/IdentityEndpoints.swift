import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PortcullisCore
import PortcullisTokens

/// Sign-in and sign-out (SPEC §2): `/_portcullis/login`, `/callback`, `/logout` and
/// `/backchannel-logout`.
package final class IdentityEndpoints: Sendable {
    package struct Settings: Sendable {
        package var publicURL: PublicURL
        package var oidc: OIDCConfiguration
        package var clientSecret: String
        package var groupSource: GroupSourcePolicy

        package init(publicURL: PublicURL, oidc: OIDCConfiguration, clientSecret: String, groupSource: GroupSourcePolicy = .both) {
            self.publicURL = publicURL
            self.oidc = oidc
            self.clientSecret = clientSecret
            self.groupSource = groupSource
        }
    }

    let settings: Settings
    let provider: OIDCProviderClient
    let verifier: TokenVerifier
    let claims: ProviderClaims
    let sessions: SessionService
    /// Keeps refresh tokens, when a key to seal them is configured.
    let identitySync: IdentitySync?
    /// The suspicious-session signals, judged at every sign-in.
    let risk: SessionRiskMonitor?
    let stateKey: SymmetricKey
    let logger: Logger
    let now: @Sendable () -> Date

    package init(
        settings: Settings,
        provider: OIDCProviderClient,
        verifier: TokenVerifier,
        sessions: SessionService,
        identitySync: IdentitySync? = nil,
        risk: SessionRiskMonitor? = nil,
        stateKey: SymmetricKey,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.settings = settings
        self.provider = provider
        self.verifier = verifier
        self.claims = ProviderClaims(provider: provider, verifier: verifier, oidc: settings.oidc)
        self.sessions = sessions
        self.identitySync = identitySync
        self.risk = risk
        self.stateKey = stateKey
        self.logger = logger
        self.now = now
    }

    package func register(on router: Router<ControlPlaneRequestContext>) {
        let group = router.group("_portcullis")
        group.get("login") { request, context in try await self.login(request, context) }
        group.get("callback") { request, context in try await self.callback(request, context) }
        group.get("logout") { _, _ in self.logoutPage() }
        group.post("logout") { request, context in try await self.logout(request, context) }
        group.get("signed-out") { _, _ in
            ControlPlanePages.page(.ok, title: "Signed out", body: "<p>You are signed out.</p><p><a href=\"/\">Sign in again</a></p>")
        }
        group.post("backchannel-logout") { request, context in try await self.backchannelLogout(request, context) }
    }

    // MARK: login

    func login(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let returnPath = ReturnPath.sanitize(request.uri.queryParameters["rd"].map(String.init))
        let stepUp = request.uri.queryParameters["mfa"] == "1"
        // A session flagged for a step-up (suspicious sessions) must sign in afresh.
        let reauthenticate = request.uri.queryParameters["reauth"] == "1"
        let metadata: OIDCProviderMetadata
        do {
            metadata = try await provider.metadata()
        } catch {
            logger.error("sign-in impossible: the identity provider cannot be reached", metadata: ["error": "\(error)"])
            return ControlPlanePages.problem(.serviceUnavailable, title: "Sign-in unavailable", reason: "idp_unreachable",
                                             message: "The identity provider cannot be reached. Try again shortly.")
        }
        let state = LoginStateCookie(
            state: SessionToken.random(), nonce: SessionToken.random(), verifier: SessionToken.random(bytes: 48),
            returnPath: returnPath, issuedAt: now(), stepUp: stepUp, reauthenticate: reauthenticate
        )
        var parameters = [
            ("response_type", "code"), ("client_id", settings.oidc.clientID), ("redirect_uri", settings.publicURL.callbackURL),
            ("scope", settings.oidc.scopes.joined(separator: " ")), ("state", state.state), ("nonce", state.nonce),
            ("code_challenge", SessionToken.pkceChallenge(for: state.verifier)), ("code_challenge_method", "S256"),
        ]
        if stepUp || reauthenticate {
            // Ask for a fresh sign-in (with a second factor when the route needs one).
            parameters += [("prompt", "login"), ("max_age", "0")]
        }
        if stepUp, let acr = settings.oidc.mfaACRValues.sorted().first { parameters.append(("acr_values", acr)) }
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        let location = metadata.authorizationEndpoint + separator + FormBody.encode(parameters)
        return ControlPlanePages.redirect(to: location, cookies: [
            CookieText.set(SessionCookie.loginStateName, state.sealed(with: stateKey), maxAge: Int(LoginStateCookie.lifetime)),
        ])
    }

    /// The login that asks the IdP for a fresh sign-in, then returns to `path`.
    static func reauthenticationPath(returningTo path: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "/_portcullis/login?rd=" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/") + "&reauth=1"
    }

    /// The IdP says the user authenticated after the login started (`auth_time`, which an IdP
    /// must send when asked for `max_age`), allowing for clock skew.
    static func isFreshAuthentication(_ claims: [String: JSONValue], since start: Double, skew: Double) -> Bool {
        guard case .number(let authTime)? = claims["auth_time"] else { return false }
        return authTime >= start - max(skew, 5)
    }

    /// When the user signed in at the IdP (`auth_time`), if it said; for `max_auth_age`.
    static func authenticationTime(_ claims: [String: JSONValue]) -> Date? {
        guard case .number(let authTime)? = claims["auth_time"], authTime.isFinite, authTime > 0 else { return nil }
        return Date(timeIntervalSince1970: authTime)
    }

    // MARK: logout

    func logoutPage() -> Response {
        ControlPlanePages.page(.ok, title: "Sign out", body: """
            <form method="post" action="/_portcullis/logout"><p><button type="submit">Sign out</button></p></form>
            """, formTargets: ControlPlanePages.origin(of: settings.oidc.issuer).map { [$0] } ?? [])
    }

    func logout(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        guard isSameOrigin(request) else {
            return ControlPlanePages.json(.forbidden, error: "forbidden", reason: "csrf",
                                          message: "sign-out must come from this site")
        }
        if let cookie = cookie(SessionCookie.name, in: request) {
            do {
                if try await sessions.signOut(cookie: cookie, client: context.clientAddress, now: now()) == .busy {
                    logger.notice("sign-out refused: too many sign-outs of unknown sessions at once", metadata: [
                        "client": "\(context.clientAddress)",
                    ])
                    return ControlPlanePages.problem(
                        .serviceUnavailable, title: "Temporarily unavailable", reason: ReasonCode.sessionUnverifiable.rawValue,
                        message: "Your sign-out could not be recorded right now, and you are still signed in. Try again shortly."
                    )
                }
            } catch {
                logger.error("logout could not be recorded", metadata: ["error": "\(error)"])
                return unavailable(error)
            }
        }
        var location = "/_portcullis/signed-out"
        if let endSession = try? await provider.metadata().endSessionEndpoint {
            let separator = endSession.contains("?") ? "&" : "?"
            location = endSession + separator + FormBody.encode([
                ("client_id", settings.oidc.clientID),
                ("post_logout_redirect_uri", settings.publicURL.origin + "/_portcullis/signed-out"),
            ])
        }
        return ControlPlanePages.redirect(to: location, status: .seeOther, cookies: [CookieText.clear(SessionCookie.name)])
    }

    /// CSRF defence for state-changing requests from browsers: the `Origin` is ours, or (for
    /// browsers that omit it) `Sec-Fetch-Site` says same-origin. SameSite=Lax cookies are the
    /// second line.
    func isSameOrigin(_ request: Request) -> Bool {
        if let origin = request.headers[.origin] { return origin == settings.publicURL.origin }
        if let site = request.headers[.secFetchSite] { return site == "same-origin" || site == "none" }
        return false
    }

    // MARK: back-channel logout

    func backchannelLogout(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 65_536)
        guard let token = FormBody.parse(String(buffer: body))["logout_token"] else {
            return backchannelError("no logout_token")
        }
        let now = now()
        let claims: [String: JSONValue]
        do {
            let validator = TokenClaimsValidator(
                issuer: settings.oidc.issuer, audiences: [settings.oidc.clientID],
                clockSkew: settings.oidc.clockSkew.secondsValue, maximumAge: 300, requireExpiry: false
            )
            claims = try await verifier.verify(token, validator: validator, now: now)
        } catch {
            logger.warning("logout token refused", metadata: ["reason": "\(error)"])
            return backchannelError("logout token refused: \(error)")
        }
        let event: (jti: String, sid: String?, sub: String?)
        switch TokenClaims.validateLogoutEvent(claims) {
        case .failure(let failure): return backchannelError("logout token refused: \(failure)")
        case .success(let value): event = value
        }
        do {
            guard try await sessions.store.consumeOnce(kind: "logout-jti", value: event.jti, expiresAt: now.addingTimeInterval(86_400), now: now) else {
                logger.warning("logout token replayed", metadata: ["jti": "\(event.jti.prefix(64))"])
                return backchannelError("logout token replayed")
            }
            let user = try await event.sub.asyncMap { try await sessions.store.user(subject: $0) } ?? nil
            var revoked: [SessionIDHash] = []
            if let sid = event.sid {
                revoked = try await sessions.revoke(idpSessionID: sid, userID: user?.id, reason: "back-channel logout", now: now)
            } else if let user {
                revoked = try await sessions.signOutEverywhere(
                    userID: user.id, includeAPITokens: false, reason: "back-channel logout",
                    audit: AuditContext(actor: "idp", actorIsSuperAdmin: false, sourceIP: context.clientAddress.description, at: now)
                ).sessions
            }
            logger.info("back-channel logout", metadata: ["sessions": "\(revoked.count)", "by_sid": "\(event.sid != nil)"])
            var headers: HTTPFields = [:]
            ControlPlanePages.securityHeaders(&headers)
            return Response(status: .ok, headers: headers)
        } catch {
            return unavailable(error)
        }
    }

    private func backchannelError(_ description: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        ControlPlanePages.securityHeaders(&headers)
        let body = "{\"error\":\"invalid_request\",\"error_description\":\"\(JSONText.escape(description))\"}"
        return Response(status: .badRequest, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    // MARK: helpers

    /// A sign-in the directory refused: the reason code and what to do about it.
    func refused(_ refusal: LoginRefusal) -> Response {
        let advice: String
        switch refusal.code {
        case .emailMissing: advice = "The identity provider sent no email address for this account."
        case .emailUnverified:
            advice = "The identity provider has not verified this account's email address. If it is authoritative for email, "
                + "an operator can set identity.oidc.trust_email."
        case .emailLookalike: advice = "This email address looks like the address of an existing account and cannot be used."
        case .accountConflict: advice = "This email address belongs to an account linked to another identity."
        }
        return ControlPlanePages.problem(.forbidden, title: "Sign-in refused", reason: refusal.code.rawValue, message: advice)
    }

    func failure(_ reason: String, _ message: String) -> Response {
        ControlPlanePages.problem(.badRequest, title: "Sign-in failed", reason: reason, message: message)
    }

    func unavailable(_ error: any Error) -> Response {
        logger.error("store unavailable during sign-in", metadata: ["error": "\(error)"])
        return ControlPlanePages.problem(.serviceUnavailable, title: "Temporarily unavailable", reason: "store_unavailable",
                                         message: "Sign-in cannot be completed right now. Try again shortly.")
    }

    func withCookies(_ response: Response, _ cookies: [String]) -> Response {
        var response = response
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
