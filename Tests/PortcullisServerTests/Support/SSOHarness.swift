import CoreMetrics
import Foundation
import MetricsTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisConfigFile
import PortcullisCore
import PortcullisTokens
import PortcullisServer
import PortcullisStore
import PortcullisTestSupport
import Prometheus
import ServiceLifecycle
import PortcullisDataPath
import PortcullisDevelopment

/// The whole gateway as `serve` assembles it, in process, with the development IdP over TLS
/// on loopback, SQLite in a temporary folder, and a real upstream.
final class SSOHarness: Sendable {
    let certificates: TestCertificates
    let upstream: TestUpstream
    let idp: DevIdentityProvider
    let idpPort: Int
    let gatewayPort: Int
    /// The port of the origin users see: the gateway's own, or a proxy's in front of it.
    let publicPort: Int
    let assembly: GatewayAssembly
    let store: SwitchableStore
    /// The SQLite store, unless the harness runs on PostgreSQL.
    let sqlite: SQLiteStore!
    /// The PostgreSQL store, when the harness runs on one.
    let opened: OpenedStore?
    let logs: LogRecorder
    let configurationPath: String
    /// The internal listener's port (`/metrics`, `/readyz`), when the harness was given a registry.
    let internalPort: Int?
    /// What `/readyz` answers, kept as `serve` keeps it (the listener, the store's polls).
    let readiness: Readiness
    private let gatewayGroup: ServiceGroup
    private let gatewayTask: Task<Void, any Error>
    private let idpGroup: ServiceGroup
    private let idpTask: Task<Void, any Error>

    static let users: [DevIdentityDirectory.User] = [
        .init(email: "ada@example.com", name: "Ada Lovelace", department: "Engineering", groups: ["IT-Admins", "Content-Team"], password: "portcullis", mfa: true, subject: "sub-ada"),
        .init(email: "sam@example.com", name: "Sam Member", department: "Sales", groups: ["Sales"], password: "portcullis", mfa: false, subject: "sub-sam"),
        .init(email: "root@example.com", name: "Root Owner", department: "IT", groups: [], password: "portcullis", mfa: true, subject: "sub-root"),
        .init(email: "grace@example.com", name: "Grace Hopper", department: "Research", groups: ["Research"], password: "portcullis", mfa: false, subject: "sub-grace"),
    ]

    static let defaultRoutes = """
          - { name: api, path: /api, upstream: "{UPSTREAM}", require: authenticated, allow_bearer: true }
          - { name: secure, path: /secure, upstream: "{UPSTREAM}", require: authenticated, mfa: required }
          - { name: public, path: /public, upstream: "{UPSTREAM}", require: public }
          - { name: app, path: /, upstream: "{UPSTREAM}", require: authenticated }
        """

    /// - Parameter externalIssuer: a third-party provider to sign in with instead of the
    ///   development IdP (which still runs, unused).
    /// - Parameters:
    ///   - publicPort: a proxy in front of the gateway (nginx, Caddy) serves the origin users
    ///     see on this port; `public_url` and the IdP's redirect URIs name it.
    ///   - serverExtra: more `server:` keys (indented two spaces), such as `trusted_proxies`.
    ///   - oidc: extra keys under `identity.oidc` (indented YAML lines), such as
    ///     `trust_email: true` or `refresh_token_key_file: refresh-key` (the harness writes that file).
    ///   - identity: extra keys under `identity`, such as `groups: { source: scim }`.
    ///   - store: extra keys under `store` (indented two spaces), such as `request_deadline`.
    ///   - scimNetworks: `identity.scim.allowed_networks`, as YAML (`[20.0.0.0/8]`).
    ///   - behaviour: how the development IdP states claims.
    static func start(
        routes: String = defaultRoutes, sessions: String = "", storePath: String? = nil, externalIssuer: String? = nil,
        postgresURL: String? = nil, postgresListenURL: String? = nil, scimToken: String? = nil, scimNetworks: String? = nil, metrics registry: PrometheusCollectorRegistry? = nil,
        publicPort: Int? = nil, serverExtra: String = "", oidc: String = "", identity: String = "", store storeExtra: String = "",
        admin: String = "",
        behaviour: DevIdentityProvider.Behaviour = .init(), extraUsers: [DevIdentityDirectory.User] = [],
        geoIP: (any GeoIPResolver)? = nil, clock: (@Sendable () -> Date)? = nil
    ) async throws -> SSOHarness {
        let certificates = try TestCertificates()
        try certificates.issue("server", dnsNames: ["localhost"], ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1)])
        try certificates.write("test-client-secret-\(UUID().uuidString)", "client-secret")
        try certificates.write("refresh-token-key-\(UUID().uuidString)", "refresh-key")
        let upstream = try await TestUpstream.start()
        let gatewayPort = try await TestUpstream.deadPort()
        let idpPort = try await TestUpstream.deadPort()
        let yaml = """
        server:
          listen: "127.0.0.1:\(gatewayPort)"
          public_url: "https://localhost:\(publicPort ?? gatewayPort)"
          internal_listen: "127.0.0.1:0"
        \(serverExtra)
          tls:
            certificates:
              - { cert_file: server.pem, key_file: server-key.pem }
        identity:
          oidc:
            issuer: "\(externalIssuer ?? "https://localhost:\(idpPort)")"
            client_id: portcullis
            client_secret_file: client-secret
            ca_file: ca.pem
            scopes: [openid, email, profile]
            claims: { groups: groups, department: department, name: name }
        \(oidc)
          bearer:
            audiences: [portcullis-api]
        \(scimToken != nil ? "  scim: { token_file: scim-token\(scimNetworks.map { ", allowed_networks: \($0)" } ?? "") }" : "")
        \(identity)
        \(sessions)
        store:
        \(postgresURL != nil ? "  postgres: { url_file: postgres-url\(postgresListenURL != nil ? ", listen_url_file: postgres-listen-url" : "") }" : "  sqlite: { path: \"\(storePath ?? certificates.folder + "/store.sqlite")\" }")
        \(storeExtra)
        \(admin)
        routes:
        \(routes.replacingOccurrences(of: "{UPSTREAM}", with: "http://127.0.0.1:\(upstream.port)"))
        """
        let path = certificates.folder + "/portcullis.yaml"
        if let postgresURL { try certificates.write(postgresURL, "postgres-url") }
        if let postgresListenURL { try certificates.write(postgresListenURL, "postgres-listen-url") }
        if let scimToken { try certificates.write(scimToken, "scim-token") }
        try certificates.write(yaml, "portcullis.yaml")
        let configuration = try ConfigurationFile.load(path: path, environment: .system).get()
        return try await SSOHarness(
            certificates: certificates, upstream: upstream, configuration: configuration, path: path, gatewayPort: gatewayPort,
            publicPort: publicPort ?? gatewayPort, idpPort: idpPort, registry: registry, behaviour: behaviour, extraUsers: extraUsers,
            geoIP: geoIP, clock: clock
        )
    }

    /// - Parameter registry: Prometheus metrics as `serve` makes them, served on an internal
    ///   listener; otherwise metrics go to a test factory.
    private init(
        certificates: TestCertificates, upstream: TestUpstream, configuration: GatewayConfiguration, path: String, gatewayPort: Int,
        publicPort: Int, idpPort: Int, registry: PrometheusCollectorRegistry?,
        behaviour: DevIdentityProvider.Behaviour, extraUsers: [DevIdentityDirectory.User],
        geoIP: (any GeoIPResolver)?, clock: (@Sendable () -> Date)?
    ) async throws {
        self.certificates = certificates
        self.upstream = upstream
        self.gatewayPort = gatewayPort
        self.publicPort = publicPort
        self.idpPort = idpPort
        self.configurationPath = path
        let logs = LogRecorder()
        self.logs = logs
        let readiness = Readiness()
        self.readiness = readiness
        let metricsFactory: any MetricsFactory = registry.map { PrometheusMetricsSetup.factory(registry: $0) } ?? TestMetrics()
        let observer = registry.map { _ in StoreOperationMetrics(factory: metricsFactory) }
        switch configuration.store {
        case .sqlite(let storePath):
            sqlite = try SQLiteStore(path: storePath, observer: observer)
            opened = nil
            store = SwitchableStore(sqlite)
        case .postgres:
            let opened = try await OpenedStore.open(
                configuration.store, secret: { try SecretReader.read($0) }, logger: logs.logger("store"), observer: observer
            )
            self.opened = opened
            sqlite = nil
            store = SwitchableStore(opened.store)
        }
        let secret = try SecretReader.read(.file(certificates.folder + "/client-secret"))
        let scimToken = configuration.identity.scim.map { try? SecretReader.read($0.token) } ?? nil
        let refreshTokenKey = configuration.identity.oidc?.refreshTokenKey.map { try? SecretReader.read($0) } ?? nil
        let riskWebhookSecret = configuration.sessions.risk.webhook.map { try? SecretReader.read($0.secret) } ?? nil
        let directory = DevIdentityDirectory(
            issuer: "https://localhost:\(idpPort)",
            listen: ListenAddress(host: "127.0.0.1", port: idpPort),
            client: .init(
                clientID: "portcullis", secret: .file(certificates.folder + "/client-secret"),
                redirectURIs: ["https://localhost:\(publicPort)/_portcullis/callback"],
                backchannelLogoutURI: "https://localhost:\(publicPort)/_portcullis/backchannel-logout"
            ),
            users: Self.users + extraUsers, accessTokenAudience: "portcullis-api"
        )
        idp = try DevIdentityProvider(
            directory: directory, clientSecret: secret, signingKey: try await ES256SigningKey(keyID: "test-idp"),
            backchannelTrust: try certificates.trustRoots(), behaviour: behaviour, logger: logs.logger("idp")
        )
        let serverCertificate = try ServerCertificate.load(CertificateFiles(certificateFile: certificates.folder + "/server.pem", keyFile: certificates.folder + "/server-key.pem"))
        let idpTLS = NIOSSL.TLSConfiguration.makeServerConfiguration(
            certificateChain: serverCertificate.chain.map { .certificate($0) }, privateKey: .privateKey(serverCertificate.privateKey)
        )
        var dependencies = GatewayAssembly.Dependencies(
            store: store, changeFeed: opened?.changeFeed, geoIP: geoIP ?? StaticGeoIPResolver.documentationRanges, clientSecret: secret,
            scimToken: scimToken, refreshTokenKey: refreshTokenKey, riskWebhookSecret: riskWebhookSecret, metricsFactory: metricsFactory,
            accessLog: AccessLog(logger: logs.logger("portcullis.access")), logger: logs.logger("portcullis"),
            group: MultiThreadedEventLoopGroup.singleton
        )
        if let clock { dependencies.riskClock = clock }
        assembly = try await GatewayAssembly(configuration: configuration, dependencies: dependencies)
        let idpGroup = ServiceGroup(services: [try idp.makeApplication(tls: idpTLS)], logger: logs.logger("services"))
        self.idpGroup = idpGroup
        idpTask = Task { try await idpGroup.run() }
        var services: [any Service] = [assembly.gateway.server, assembly.makeControlPlane()] + assembly.backgroundServices
        let internalBound = AsyncStream<Int>.makeStream()
        if let registry {
            readiness.register("listener", waitingFor: "the TLS listener is not bound yet")
            services.append(InternalServer.makeApplication(
                host: "127.0.0.1", port: 0, readiness: readiness, registry: registry, logger: logs.logger("internal"),
                onRunning: { address in internalBound.continuation.yield(address?.port ?? 0) }
            ))
            services.append(ReadinessWatcher(
                gateway: assembly.gateway, changes: assembly.changeWatcher, readiness: readiness, notifier: nil, logger: logs.logger("readiness")
            ))
        }
        let gatewayGroup = ServiceGroup(services: services, logger: logs.logger("services"))
        self.gatewayGroup = gatewayGroup
        gatewayTask = Task { try await gatewayGroup.run() }
        if registry != nil {
            var ports = internalBound.stream.makeAsyncIterator()
            internalPort = await ports.next()
        } else {
            internalPort = nil
        }
        _ = try await assembly.gateway.server.boundAddress()
        for _ in 0..<200 where assembly.gateway.runtime.controlPlane == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Self.waitForPort(idpPort)
    }

    static func isListening(_ port: Int) async -> Bool {
        (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get().close()) != nil
    }

    static func waitForPort(_ port: Int, attempts: Int = 200) async throws {
        for _ in 0..<attempts {
            if await isListening(port) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("nothing listens on \(port)")
    }

    var origin: String { "https://localhost:\(publicPort)" }

    func url(_ path: String) -> String { origin + path }

    func browser(userAgent: String? = nil) throws -> TestBrowser {
        if let userAgent { return TestBrowser(trustRoots: try certificates.trustRoots(), userAgent: userAgent) }
        return TestBrowser(trustRoots: try certificates.trustRoots())
    }

    /// Signs in and answers the browser, holding the session cookie.
    func signedIn(_ email: String = "ada@example.com", at path: String = "/echo") async throws -> (TestBrowser, TestBrowser.Page) {
        let browser = try browser()
        do {
            let page = try await browser.signIn(at: url(path), email: email)
            return (browser, page)
        } catch {
            await browser.shutdown()
            throw error
        }
    }

    /// An authorization code from the IdP and its PKCE verifier, as an API client gets them.
    func authorizationCode(for email: String) async throws -> (code: String, verifier: String) {
        let browser = try browser()
        defer { Task { await browser.shutdown() } }
        let verifier = SessionToken.random(bytes: 48)
        let authorize = "https://localhost:\(idpPort)/authorize?response_type=code&client_id=portcullis&scope=openid&state=s&code_challenge=\(SessionToken.pkceChallenge(for: verifier))&code_challenge_method=S256&redirect_uri=" + (redirectURI.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let form = try await browser.request(authorize)
        var fields = TestBrowser.hiddenFields(form.body)
        fields["email"] = email
        fields["password"] = "portcullis"
        let posted = try await browser.request("https://localhost:\(idpPort)/authorize", method: .POST, form: fields)
        guard let location = posted.location, let code = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value else {
            throw TestFailure("no code in \(posted.location ?? "nothing")")
        }
        return (code, verifier)
    }

    var redirectURI: String { "https://localhost:\(publicPort)/_portcullis/callback" }

    /// The token endpoint's answer for a code.
    func exchange(code: String, verifier: String) async throws -> TestBrowser.Page {
        let browser = try browser()
        defer { Task { await browser.shutdown() } }
        let secret = try SecretReader.read(.file(certificates.folder + "/client-secret"))
        return try await browser.request(
            "https://localhost:\(idpPort)/token", method: .POST,
            form: ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": verifier,
                   "client_id": "portcullis", "client_secret": secret],
            accept: "application/json"
        )
    }

    /// An access token from the IdP (usable as a bearer JWT at the gateway).
    func accessToken(for email: String) async throws -> String {
        let (code, verifier) = try await authorizationCode(for: email)
        let token = try await exchange(code: code, verifier: verifier)
        guard let data = token.body.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let access = object["access_token"] as? String else {
            throw TestFailure("no access token: \(token.body)")
        }
        return access
    }

    /// Stops the in-process gateway and control plane, keeping the IdP and the upstream.
    func stopGatewayOnly() async {
        await gatewayGroup.triggerGracefulShutdown()
        _ = try? await gatewayTask.value
    }

    func stop() async {
        await gatewayGroup.triggerGracefulShutdown()
        _ = try? await gatewayTask.value
        await idpGroup.triggerGracefulShutdown()
        _ = try? await idpTask.value
        await assembly.shutdown()
        await opened?.close()
        await idp.shutdown()
        await upstream.close()
        certificates.remove()
    }
}
