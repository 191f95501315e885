import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PortcullisCore
import PortcullisTokens
import Synchronization
import PortcullisDataPath
import PortcullisControlPlane

/// A development-only OpenID Connect provider, inside the binary for `portcullis dev` and the
/// tests: discovery, JWKS (ES256), an authorization endpoint with a login form listing the
/// users of `conf/dev-users.yaml`, a token endpoint (authorization code + PKCE S256, single-use
/// codes), an end-session page and back-channel logout. It binds loopback only and says on every
/// page that it is for development.
package final class DevIdentityProvider: Sendable {
    struct PendingCode: Sendable {
        let user: DevIdentityDirectory.User
        let redirectURI: String
        let challenge: String
        let nonce: String?
        let sessionID: String
        let expiresAt: Date
        let stepUp: Bool
    }

    /// How this provider states claims, to behave like third-party providers in tests.
    package struct Behaviour: Sendable {
        /// The ID token carries only the subject and the registered claims; email, name,
        /// groups and department come from the UserInfo endpoint only.
        package var claimsOnlyInUserInfo: Bool
        /// Whether `email_verified: true` is stated (many providers never send it).
        package var sendsEmailVerified: Bool
        /// `auth_time` is an hour old, as from a provider that kept its own session despite
        /// `prompt=login` (tests of the step-up's freshness check).
        package var reportsStaleAuthTime: Bool

        package init(claimsOnlyInUserInfo: Bool = false, sendsEmailVerified: Bool = true, reportsStaleAuthTime: Bool = false) {
            self.claimsOnlyInUserInfo = claimsOnlyInUserInfo
            self.sendsEmailVerified = sendsEmailVerified
            self.reportsStaleAuthTime = reportsStaleAuthTime
        }
    }

    package let directory: DevIdentityDirectory
    package let behaviour: Behaviour
    private let clientSecret: String
    package let signingKey: ES256SigningKey
    private let codes = Mutex<[String: PendingCode]>([:])
    /// Refresh token → the user's email (refresh tokens rotate on use).
    private let refreshTokens = Mutex<[String: String]>([:])
    /// Access token → the user's email, for UserInfo.
    private let accessTokens = Mutex<[String: String]>([:])
    /// Groups changed since start-up (tests: a user removed from a group at the provider).
    private let groupOverrides = Mutex<[String: [String]]>([:])
    private let usedCodes = Mutex<Set<String>>([])
    /// IdP session id → user email, for back-channel logout.
    private let sessions = Mutex<[String: String]>([:])
    private let backchannel: HTTPClient?
    private let logger: Logger
    private let now: @Sendable () -> Date

    package init(
        directory: DevIdentityDirectory,
        clientSecret: String,
        signingKey: ES256SigningKey,
        backchannelTrust: NIOSSLTrustRoots? = nil,
        behaviour: Behaviour = Behaviour(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard ["127.0.0.1", "::1", "localhost"].contains(directory.listen.host) else {
            throw ServerCertificate.LoadError(file: "dev-users.yaml", reason: "the development identity provider binds loopback only")
        }
        self.directory = directory
        self.behaviour = behaviour
        self.clientSecret = clientSecret
        self.signingKey = signingKey
        self.logger = logger
        self.now = now
        if let trust = backchannelTrust {
            var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = trust
            backchannel = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, decompression: .disabled)
            )
        } else {
            backchannel = nil
        }
    }

    package func shutdown() async {
        try? await backchannel?.shutdown()
    }

    package func makeApplication(tls: NIOSSL.TLSConfiguration?, port: Int? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get(".well-known/openid-configuration") { _, _ in self.discovery() }
        router.get("jwks") { _, _ in self.json(Data(ES256SigningKey.jwks([self.signingKey]))) }
        router.get("authorize") { request, _ in
            self.authorizePage(request.uri.queryParameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) })
        }
        router.post("authorize") { request, _ in try await self.authorizeSubmit(request) }
        router.post("token") { request, _ in try await self.token(request) }
        router.get("userinfo") { request, _ in self.userInfo(request) }
        router.post("userinfo") { request, _ in self.userInfo(request) }
        router.get("end_session") { request, _ in self.endSession(request) }
        router.get("dev/sessions") { _, _ in self.sessionsPage() }
        router.post("dev/backchannel-logout") { request, _ in try await self.backchannelLogoutSubmit(request) }
        let address = BindAddress.hostname(directory.listen.host, port: port ?? directory.listen.port)
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1()
        return Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: address, serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    // MARK: discovery and keys

    func discovery() -> Response {
        let issuer = directory.issuer
        let document: JSONValue = .object([
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/authorize"),
            "token_endpoint": .string(issuer + "/token"),
            "userinfo_endpoint": .string(issuer + "/userinfo"),
            "grant_types_supported": .array([.string("authorization_code"), .string("refresh_token")]),
            "jwks_uri": .string(issuer + "/jwks"),
            "end_session_endpoint": .string(issuer + "/end_session"),
            "response_types_supported": .array([.string("code")]),
            "subject_types_supported": .array([.string("public")]),
            "id_token_signing_alg_values_supported": .array([.string("ES256")]),
            "code_challenge_methods_supported": .array([.string("S256")]),
            "token_endpoint_auth_methods_supported": .array([.string("client_secret_basic"), .string("client_secret_post")]),
            "backchannel_logout_supported": .bool(true),
            "backchannel_logout_session_supported": .bool(true),
            "scopes_supported": .array(["openid", "email", "profile", "groups"].map(JSONValue.string)),
        ])
        return json((try? JSONEncoder().encode(document)) ?? Data())
    }

    // MARK: authorize

    func authorizePage(_ parameters: [String: String], error: String? = nil) -> Response {
        guard let checked = validateAuthorizeRequest(parameters) else {
            return page(.badRequest, "Bad sign-in request", "<p>The client, redirect URI or PKCE challenge is not acceptable.</p>")
        }
        var options = ""
        for user in directory.users {
            let detail = [user.department, user.groups.isEmpty ? nil : user.groups.joined(separator: ", "), user.mfa ? "MFA" : nil]
                .compactMap { $0 }.joined(separator: " · ")
            options += "<option value=\"\(HTMLText.escape(user.email))\">\(HTMLText.escape(user.name)) — \(HTMLText.escape(user.email)) (\(HTMLText.escape(detail)))</option>"
        }
        var hidden = ""
        for (name, value) in checked.sorted(by: { $0.key < $1.key }) {
            hidden += "<input type=\"hidden\" name=\"\(HTMLText.escape(name))\" value=\"\(HTMLText.escape(value))\">"
        }
        let note = checked["prompt"] == "login" ? "<p><strong>A fresh sign-in with a second factor was requested.</strong></p>" : ""
        let problem = error.map { "<p role=\"alert\" style=\"color:#b00\">\(HTMLText.escape($0))</p>" } ?? ""
        return page(.ok, "Sign in", """
            \(note)\(problem)
            <form method="post" action="/authorize">\(hidden)
            <p><label for="email">User</label><br><select id="email" name="email">\(options)</select></p>
            <p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
            <p><button type="submit">Sign in</button></p>
            </form>
            <p>Users, departments, groups and passwords come from <code>conf/dev-users.yaml</code>.</p>
            """)
    }

    /// The request's parameters when the client, redirect URI and PKCE challenge are acceptable.
    func validateAuthorizeRequest(_ parameters: [String: String]) -> [String: String]? {
        guard parameters["response_type"] == "code",
              parameters["client_id"] == directory.client.clientID,
              let redirect = parameters["redirect_uri"], directory.client.redirectURIs.contains(redirect),
              let challenge = parameters["code_challenge"], challenge.utf8.count >= 43,
              parameters["code_challenge_method"] == "S256",
              (parameters["scope"] ?? "").split(separator: " ").contains("openid")
        else { return nil }
        let kept = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "acr_values"]
        return parameters.filter { kept.contains($0.key) }
    }

    func authorizeSubmit(_ request: Request) async throws -> Response {
        let form = FormBody.parse(String(buffer: try await request.body.collect(upTo: 65_536)))
        guard let parameters = validateAuthorizeRequest(form), let redirect = parameters["redirect_uri"],
              let challenge = parameters["code_challenge"] else {
            return page(.badRequest, "Bad sign-in request", "<p>The client, redirect URI or PKCE challenge is not acceptable.</p>")
        }
        guard let user = directory.users.first(where: { $0.email == form["email"] }),
              let password = form["password"], ConstantTime.equal(password, user.password) else {
            return authorizePage(parameters, error: "Wrong user or password.")
        }
        let code = SessionToken.random()
        let pending = PendingCode(
            user: user, redirectURI: redirect, challenge: challenge, nonce: parameters["nonce"],
            sessionID: "dev-sid-" + SessionToken.random(bytes: 12), expiresAt: now().addingTimeInterval(60),
            stepUp: parameters["prompt"] == "login"
        )
        codes.withLock { $0[code] = pending }
        sessions.withLock { $0[pending.sessionID] = user.email }
        var location = redirect + (redirect.contains("?") ? "&" : "?") + "code=" + OIDCProviderClient.formEncode(code)
        if let state = parameters["state"] { location += "&state=" + OIDCProviderClient.formEncode(state) }
        logger.info("development IdP signed a user in", metadata: ["user": "\(user.email)"])
        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    // MARK: token

    func token(_ request: Request) async throws -> Response {
        let form = FormBody.parse(String(buffer: try await request.body.collect(upTo: 65_536)))
        // Client authentication: client_secret_basic or client_secret_post.
        var clientID = form["client_id"]
        var secret = form["client_secret"]
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            clientID = FormBody.decode(decoded[..<colon])
            secret = FormBody.decode(decoded[decoded.index(after: colon)...])
        }
        guard clientID == directory.client.clientID, let secret, ConstantTime.equal(secret, clientSecret) else {
            return tokenError(.unauthorized, "invalid_client")
        }
        if form["grant_type"] == "refresh_token" {
            return try await refresh(form)
        }
        guard form["grant_type"] == "authorization_code", let code = form["code"] else {
            return tokenError(.badRequest, "unsupported_grant_type")
        }
        // Codes work once; a replayed code is refused.
        let firstUse = usedCodes.withLock { $0.insert(code).inserted }
        guard firstUse, let pending = codes.withLock({ $0.removeValue(forKey: code) }), pending.expiresAt > now() else {
            return tokenError(.badRequest, "invalid_grant")
        }
        guard form["redirect_uri"] == pending.redirectURI, let verifier = form["code_verifier"],
              SessionToken.pkceChallenge(for: verifier) == pending.challenge else {
            return tokenError(.badRequest, "invalid_grant")
        }
        return try await tokens(for: pending.user, sessionID: pending.sessionID, nonce: pending.nonce)
    }

    /// An ID token, an access token (usable as a bearer JWT and at UserInfo) and a refresh
    /// token for the user.
    private func tokens(for user: DevIdentityDirectory.User, sessionID: String, nonce: String?) async throws -> Response {
        let issuedAt = now().timeIntervalSince1970.rounded(.down)
        var amr: [JSONValue] = [.string("pwd")]
        if user.mfa { amr += [.string("otp"), .string("mfa")] }
        var idClaims: [String: JSONValue] = [
            "iss": .string(directory.issuer), "sub": .string(user.subject), "aud": .string(directory.client.clientID),
            "azp": .string(directory.client.clientID), "exp": .number(issuedAt + 300), "iat": .number(issuedAt),
            "auth_time": .number(behaviour.reportsStaleAuthTime ? issuedAt - 3_600 : issuedAt), "sid": .string(sessionID),
            "amr": .array(amr),
        ]
        if !behaviour.claimsOnlyInUserInfo { idClaims.merge(profileClaims(user)) { _, profile in profile } }
        if let nonce { idClaims["nonce"] = .string(nonce) }
        if user.mfa { idClaims["acr"] = .string("urn:portcullis:dev:mfa") }
        var accessClaims = idClaims.merging(profileClaims(user)) { _, profile in profile }
        accessClaims["aud"] = .string(directory.accessTokenAudience)
        accessClaims["exp"] = .number(issuedAt + 3_600)
        accessClaims["jti"] = .string(SessionToken.random(bytes: 16))
        accessClaims["nonce"] = nil
        let accessToken = try await signingKey.sign(accessClaims, type: "at+jwt")
        let refreshToken = SessionToken.random()
        // Bounded: a long `portcullis dev` session forgets the oldest grants wholesale.
        accessTokens.withLock { tokens in
            if tokens.count >= 10_000 { tokens.removeAll() }
            tokens[accessToken] = user.email
        }
        refreshTokens.withLock { tokens in
            if tokens.count >= 10_000 { tokens.removeAll() }
            tokens[refreshToken] = user.email
        }
        let response: JSONValue = .object([
            "id_token": .string(try await signingKey.sign(idClaims)),
            "access_token": .string(accessToken),
            "refresh_token": .string(refreshToken),
            "token_type": .string("Bearer"),
            "expires_in": .number(3_600),
        ])
        return json((try? JSONEncoder().encode(response)) ?? Data())
    }

    /// Email, name, groups and department, as the ID token or UserInfo states them.
    private func profileClaims(_ user: DevIdentityDirectory.User) -> [String: JSONValue] {
        let groups = groupOverrides.withLock { $0[user.email] } ?? user.groups
        var claims: [String: JSONValue] = [
            "email": .string(user.email), "name": .string(user.name), "groups": .array(groups.map(JSONValue.string)),
        ]
        if behaviour.sendsEmailVerified { claims["email_verified"] = .bool(true) }
        if let department = user.department { claims["department"] = .string(department) }
        return claims
    }

    /// `grant_type=refresh_token`: a used or revoked refresh token is `invalid_grant`.
    private func refresh(_ form: [String: String]) async throws -> Response {
        guard let token = form["refresh_token"], let email = refreshTokens.withLock({ $0.removeValue(forKey: token) }),
              let user = directory.users.first(where: { $0.email == email }) else {
            return tokenError(.badRequest, "invalid_grant")
        }
        return try await tokens(for: user, sessionID: "dev-sid-" + SessionToken.random(bytes: 12), nonce: nil)
    }

    /// UserInfo (OpenID Connect Core §5.3) for an access token this provider issued.
    func userInfo(_ request: Request) -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
              let email = accessTokens.withLock({ $0[String(authorization.dropFirst(7))] }),
              let user = directory.users.first(where: { $0.email == email }) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\"", .cacheControl: "no-store"])
        }
        var claims = profileClaims(user)
        claims["sub"] = .string(user.subject)
        return json((try? JSONEncoder().encode(JSONValue.object(claims))) ?? Data())
    }

    /// The user's groups at the provider from now on (tests: removal from a group).
    package func setGroups(_ groups: [String], of email: String) {
        groupOverrides.withLock { $0[email] = groups }
    }

    /// Ends the user's grants: their refresh tokens answer `invalid_grant` from now on.
    package func revokeRefreshTokens(of email: String) {
        refreshTokens.withLock { $0 = $0.filter { $0.value != email } }
    }

    private func tokenError(_ status: HTTPResponse.Status, _ error: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"\(error)\"}")))
    }

    // MARK: sign-out

    func endSession(_ request: Request) -> Response {
        var back = ""
        if let target = request.uri.queryParameters["post_logout_redirect_uri"].map(String.init),
           directory.client.redirectURIs.contains(where: { Self.origin(of: $0) == Self.origin(of: target) }) {
            back = "<p><a href=\"\(HTMLText.escape(target))\">Back to the application</a></p>"
        }
        return page(.ok, "Signed out", "<p>You are signed out of the application.</p>\(back)<p><a href=\"/dev/sessions\">Sessions at this provider</a></p>")
    }

    func sessionsPage() -> Response {
        let rows = sessions.withLock { $0 }.sorted { $0.value < $1.value }.map { sid, email in
            """
            <tr><td>\(HTMLText.escape(email))</td><td><code>\(HTMLText.escape(sid))</code></td><td>
            <form method="post" action="/dev/backchannel-logout"><input type="hidden" name="sid" value="\(HTMLText.escape(sid))">
            <button type="submit">Back-channel logout</button></form></td></tr>
            """
        }.joined()
        return page(.ok, "Provider sessions", "<table><thead><tr><th>User</th><th>sid</th><th></th></tr></thead><tbody>\(rows)</tbody></table>")
    }

    func backchannelLogoutSubmit(_ request: Request) async throws -> Response {
        let form = FormBody.parse(String(buffer: try await request.body.collect(upTo: 65_536)))
        guard let sid = form["sid"], let email = sessions.withLock({ $0[sid] }),
              let user = directory.users.first(where: { $0.email == email }) else {
            return page(.badRequest, "Unknown session", "<p>No such provider session.</p>")
        }
        let status = try await sendBackchannelLogout(subject: user.subject, sessionID: sid)
        return page(.ok, "Back-channel logout sent", "<p>The application answered \(status).</p><p><a href=\"/dev/sessions\">Sessions</a></p>")
    }

    /// Signs a logout token and posts it to the client's back-channel logout URI.
    @discardableResult
    package func sendBackchannelLogout(subject: String?, sessionID: String?) async throws -> Int {
        guard let uri = directory.client.backchannelLogoutURI, let backchannel else { return 0 }
        let token = try await logoutToken(subject: subject, sessionID: sessionID)
        var request = HTTPClientRequest(url: uri)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "logout_token=" + OIDCProviderClient.formEncode(token)))
        let response = try await backchannel.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 65_536)
        return Int(response.status.code)
    }

    /// A logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).
    package func logoutToken(subject: String?, sessionID: String?, jti: String = SessionToken.random(bytes: 16)) async throws -> String {
        var claims: [String: JSONValue] = [
            "iss": .string(directory.issuer), "aud": .string(directory.client.clientID),
            "iat": .number(now().timeIntervalSince1970.rounded(.down)), "jti": .string(jti),
            "events": .object(["http://schemas.openid.net/event/backchannel-logout": .object([:])]),
        ]
        if let subject { claims["sub"] = .string(subject) }
        if let sessionID { claims["sid"] = .string(sessionID) }
        return try await signingKey.sign(claims, type: "logout+jwt")
    }

    // MARK: pages

    private func page(_ status: HTTPResponse.Status, _ title: String, _ body: String) -> Response {
        let html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(HTMLText.escape(title)) — development IdP</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}.dev{background:#fde68a;border:2px solid #b45309;padding:.5rem 1rem;font-weight:bold}select,input{font:inherit;width:100%}button{font:inherit;padding:.4rem 1rem}</style>
        </head><body><p class="dev" role="note">DEVELOPMENT ONLY — Portcullis's built-in identity provider for <code>portcullis dev</code> and tests. Never use it in production.</p>
        <main><h1>\(HTMLText.escape(title))</h1>\(body)</main></body></html>
        """
        // Browsers apply form-action to the redirect that answers the sign-in form too: the
        // registered redirect URIs' origins must be allowed.
        let targets = Set(directory.client.redirectURIs.compactMap(ControlPlanePages.origin(of:))).sorted().joined(separator: " ")
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                      .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' \(targets); frame-ancestors 'none'"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    private func json(_ data: Data) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func origin(of url: String) -> String? {
        guard let upstream = Upstream(parsing: ConfigurationOrigin.origin(of: url)) else { return nil }
        return upstream.description
    }
}

/// The scheme, host and port part of a URL.
enum ConfigurationOrigin {
    static func origin(of url: String) -> String {
        for scheme in ["https://", "http://"] where url.hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return url }
            return String(url[..<slash])
        }
        return url
    }
}
