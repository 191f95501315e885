import Foundation
import Hummingbird
import Logging
import PortcullisCore
import PortcullisTokens

/// `/_portcullis/callback` (SPEC §2): the identity provider sends the browser back with a code.
/// The sign-in goes through named steps; each hands the next what it established, or ends the
/// sign-in with the answer to show (``CallbackStop``). Every answer clears the login-state
/// cookie.
extension IdentityEndpoints {
    func callback(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let now = now()
        do {
            let (state, code) = try await acceptedLoginState(request, now: now)
            let tokens = try await exchangedTokens(code: code, state: state, context: context)
            let claims = try await verifiedClaims(tokens, state: state, now: now, context: context)
            let login = try checkedLogin(claims, state: state, context: context)
            return try await signedIn(login, tokens: tokens, state: state, request: request, context: context, now: now)
        } catch let stop as CallbackStop {
            return withCookies(stop.response, [CookieText.clear(SessionCookie.loginStateName)] + stop.cookies)
        }
    }

    /// What the ID token and UserInfo say about who signed in, checked against the login's
    /// requirements.
    struct CheckedLogin {
        var profile: LoginProfile
        var claims: [String: JSONValue]
        /// The sign-in used a second factor.
        var mfa: Bool
    }

    /// The response belongs to a sign-in this browser started, recently, and is used once:
    /// the sign-in's state and the code the response carries.
    func acceptedLoginState(_ request: Request, now: Date) async throws -> (state: LoginStateCookie, code: String) {
        let query = request.uri.queryParameters
        if let error = query["error"] {
            throw CallbackStop(ControlPlanePages.problem(
                .forbidden, title: "Sign-in refused", reason: "idp_refused",
                message: "The identity provider refused the sign-in: \(error.prefix(100))"
            ))
        }
        guard let code = query["code"], !code.isEmpty, code.utf8.count <= 4_096,
              let stateParameter = query["state"], !stateParameter.isEmpty else {
            throw CallbackStop(failure("login_malformed", "The sign-in response is incomplete."))
        }
        guard let cookieText = cookie(SessionCookie.loginStateName, in: request),
              let state = LoginStateCookie.open(cookieText, key: stateKey, now: now) else {
            throw CallbackStop(failure("login_state_missing", "This sign-in was not started in this browser, or took too long."))
        }
        guard ConstantTime.equal(state.state, String(stateParameter)) else {
            throw CallbackStop(failure("state_mismatch", "The sign-in response does not belong to this sign-in."))
        }
        let fresh: Bool
        do {
            fresh = try await sessions.store.consumeOnce(
                kind: "login-state", value: state.state,
                expiresAt: Date(timeIntervalSince1970: state.issuedAt + LoginStateCookie.lifetime), now: now
            )
        } catch {
            throw CallbackStop(unavailable(error))
        }
        guard fresh else { throw CallbackStop(failure("login_replayed", "This sign-in response was already used.")) }
        return (state, String(code))
    }

    /// The code, exchanged at the token endpoint (with the PKCE verifier).
    func exchangedTokens(code: String, state: LoginStateCookie, context: ControlPlaneRequestContext) async throws -> OIDCTokenResponse {
        do {
            return try await provider.exchange(
                code: code, verifier: state.verifier, redirectURI: settings.publicURL.callbackURL,
                clientID: settings.oidc.clientID, clientSecret: settings.clientSecret
            )
        } catch {
            logger.warning("authorization code exchange failed", metadata: ["error": "\(error)", "client": "\(context.clientAddress)"])
            throw CallbackStop(ControlPlanePages.problem(
                .badGateway, title: "Sign-in failed", reason: "code_exchange_failed", message: "The identity provider did not accept the sign-in."
            ))
        }
    }

    /// The ID token verified (issuer, audience, nonce, times, signature), with the claims it
    /// lacks read from UserInfo (whose `sub` must match).
    func verifiedClaims(
        _ tokens: OIDCTokenResponse, state: LoginStateCookie, now: Date, context: ControlPlaneRequestContext
    ) async throws -> [String: JSONValue] {
        guard let idToken = tokens.idToken else {
            throw CallbackStop(failure("no_id_token", "The identity provider sent no ID token."))
        }
        let idClaims: [String: JSONValue]
        do {
            let validator = TokenClaimsValidator(
                issuer: settings.oidc.issuer, audiences: [settings.oidc.clientID], authorizedParty: settings.oidc.clientID,
                clockSkew: settings.oidc.clockSkew.secondsValue
            )
            idClaims = try await verifier.verify(idToken, validator: validator, now: now, nonce: state.nonce)
        } catch {
            logger.warning("ID token refused", metadata: ["reason": "\(error)", "client": "\(context.clientAddress)"])
            throw CallbackStop(failure("invalid_id_token", "The identity provider's token could not be verified."))
        }
        guard TokenClaims.subject(idClaims) != nil else {
            throw CallbackStop(failure("invalid_id_token", "The token names no subject."))
        }
        do {
            return try await self.claims.merged(idClaims, accessToken: tokens.accessToken, now: now)
        } catch {
            logger.warning("UserInfo refused", metadata: ["reason": "\(error)", "client": "\(context.clientAddress)"])
            throw CallbackStop(ControlPlanePages.problem(
                .badGateway, title: "Sign-in failed", reason: error.reason, message: "The identity provider's UserInfo answer could not be used."
            ))
        }
    }

    /// The profile the claims make, and the login's requirements met: a second factor for a
    /// step-up, a fresh sign-in for a session flagged for one.
    func checkedLogin(_ claims: [String: JSONValue], state: LoginStateCookie, context: ControlPlaneRequestContext) throws -> CheckedLogin {
        var profile: LoginProfile
        switch TokenClaims.loginProfile(claims, names: settings.oidc.claims, trustEmail: settings.oidc.trustEmail) {
        case .failure(let refusal):
            logger.notice("sign-in refused", metadata: ["reason": "\(refusal.code.rawValue)", "client": "\(context.clientAddress)"])
            throw CallbackStop(refused(refusal))
        case .success(let read):
            profile = read
        }
        // With identity.groups.source: scim, sign-ins leave memberships to SCIM.
        if settings.groupSource == .scim { profile.groups = nil }
        let mfa = TokenClaims.provesMFA(claims, mfaMethods: settings.oidc.mfaMethods, mfaACRValues: settings.oidc.mfaACRValues)
        if state.stepUp, !mfa {
            throw CallbackStop(ControlPlanePages.problem(
                .forbidden, title: "Multi-factor sign-in required", reason: "mfa_required",
                message: "This page needs a multi-factor sign-in, and the identity provider did not report one."
            ))
        }
        if state.reauthenticate, !Self.isFreshAuthentication(claims, since: state.issuedAt, skew: settings.oidc.clockSkew.secondsValue) {
            logger.notice("step-up refused: the identity provider reported no fresh sign-in", metadata: ["client": "\(context.clientAddress)"])
            throw CallbackStop(ControlPlanePages.problem(
                .forbidden, title: "A fresh sign-in is required", reason: "reauthentication_required",
                message: "The identity provider did not confirm a fresh sign-in. Try again."
            ))
        }
        return CheckedLogin(profile: profile, claims: claims, mfa: mfa)
    }

    /// The user recorded, a session made for this browser (replacing the one it had) and
    /// judged, the refresh token kept: back to where the user was going, with the cookie.
    func signedIn(
        _ login: CheckedLogin, tokens: OIDCTokenResponse, state: LoginStateCookie, request: Request,
        context: ControlPlaneRequestContext, now: Date
    ) async throws -> Response {
        let clearState = CookieText.clear(SessionCookie.loginStateName)
        do {
            let user = try await recordedUser(login.profile, context: context, now: now)
            let previous = cookie(SessionCookie.name, in: request).flatMap(SessionToken.hash(of:))
            // This browser's session waits for a step-up: only a fresh sign-in replaces it.
            if !state.reauthenticate, let previous, try await awaitsStepUp(previous, of: user) {
                return ControlPlanePages.redirect(to: Self.reauthenticationPath(returningTo: state.returnPath), cookies: [clearState])
            }
            let session = try await sessions.create(
                user: user, client: context.clientAddress, userAgent: request.headers[.userAgent], method: .oidc,
                idpSessionID: login.claims["sid"]?.stringValue, amr: login.claims["amr"]?.stringList ?? [],
                acr: login.claims["acr"]?.stringValue, mfa: login.mfa, authenticatedAt: Self.authenticationTime(login.claims), now: now
            )
            if let previous {
                await replace(previous, with: session.record.idHash, of: user, steppedUp: state.reauthenticate, context: context, now: now)
            }
            let judged = await risk?.assessSignIn(session.record, freshSignIn: state.reauthenticate)
            if judged?.revoked == true {
                throw CallbackStop(
                    ControlPlanePages.problem(
                        .forbidden, title: "Sign-in refused", reason: "suspicious_session",
                        message: "This sign-in looks suspicious and was refused. Contact your administrator."
                    ),
                    cookies: [CookieText.clear(SessionCookie.name)]
                )
            }
            await keep(refreshToken: tokens.refreshToken, of: user)
            let maxAge = Int(session.record.absoluteExpiresAt.timeIntervalSince(now))
            // Flagged for a step-up at sign-in: straight back to the IdP for a fresh sign-in.
            let next = judged?.awaitsStepUp == true ? Self.reauthenticationPath(returningTo: state.returnPath) : state.returnPath
            return ControlPlanePages.redirect(to: next, cookies: [clearState, CookieText.set(SessionCookie.name, session.token, maxAge: maxAge)])
        } catch let stop as CallbackStop {
            throw stop
        } catch {
            logger.error("sign-in could not be recorded", metadata: ["error": "\(error)"])
            throw CallbackStop(unavailable(error))
        }
    }

    /// The user the profile names, created or linked (account linking), and active.
    func recordedUser(_ profile: LoginProfile, context: ControlPlaneRequestContext, now: Date) async throws -> UserRecord {
        let user: UserRecord
        do {
            user = try await sessions.store.recordLogin(profile, at: now)
        } catch let refusal as LoginRefusal {
            logger.notice("sign-in refused by account linking", metadata: [
                "reason": "\(refusal.code.rawValue)", "client": "\(context.clientAddress)",
            ])
            throw CallbackStop(refused(refusal))
        }
        guard user.active else {
            throw CallbackStop(ControlPlanePages.problem(
                .forbidden, title: "Account deactivated", reason: "user_deactivated", message: "This account is deactivated."
            ))
        }
        return user
    }

    /// The browser's live session of this user waits for a step-up.
    func awaitsStepUp(_ previous: SessionIDHash, of user: UserRecord) async throws -> Bool {
        guard let record = try await sessions.store.session(previous) else { return false }
        return record.userID == user.id && record.revokedAt == nil && record.stepUpRequiredAt != nil
    }

    /// A login replaces any session this browser had. After a step-up, that session's flags move
    /// to the new one, marked as stepped up.
    func replace(
        _ previous: SessionIDHash, with new: SessionIDHash, of user: UserRecord, steppedUp: Bool, context: ControlPlaneRequestContext, now: Date
    ) async {
        if steppedUp {
            let audit = AuditContext(actor: user.email, actorIsSuperAdmin: false, sourceIP: context.clientAddress.description, at: now)
            do {
                _ = try await sessions.store.continueSteppedUpSession(from: previous, to: new, audit: audit)
            } catch {
                logger.warning("the stepped-up session's flags could not be carried over", metadata: ["error": "\(error)"])
            }
        }
        _ = try? await sessions.revoke(previous, by: "login", reason: "replaced by a new login", now: now)
    }

    /// Keeps the refresh token for background group refreshes, when there is one and a key to
    /// seal it; without it, groups refresh at the next sign-in.
    func keep(refreshToken: String?, of user: UserRecord) async {
        guard let refreshToken, let identitySync else { return }
        do {
            try await identitySync.keep(refreshToken: refreshToken, userID: user.id)
        } catch {
            logger.warning("the refresh token could not be kept; groups refresh at the next sign-in", metadata: ["error": "\(error)"])
        }
    }
}

/// Ends a sign-in callback early with the answer to show; the login-state cookie is cleared
/// with it, and `cookies` are set too.
struct CallbackStop: Error {
    let response: Response
    let cookies: [String]

    init(_ response: Response, cookies: [String] = []) {
        self.response = response
        self.cookies = cookies
    }
}
