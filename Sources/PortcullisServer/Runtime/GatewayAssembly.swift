import Crypto
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import PortcullisCore
import PortcullisTokens
import ServiceLifecycle
import PortcullisDataPath
import PortcullisControlPlane

/// Everything `portcullis serve` runs, assembled from a configuration and a store: the data
/// path, the authenticator and session cache, the OIDC relying party and the control plane on a
/// loopback listener that the data path reaches for `/_portcullis/`. The executable, `dev` and
/// the integration tests all start the gateway through this.
package final class GatewayAssembly: Sendable {
    package let configuration: GatewayConfiguration
    package let store: any GatewayStore
    package let gateway: Gateway
    package let sessions: SessionService
    package let authenticator: GatewayAuthenticator
    package let provider: OIDCProviderClient?
    /// Bumped on every policy change (here or, by broadcast, elsewhere).
    package let policyVersion: PolicyVersion
    /// Greenlists and the tenant greenlist managed through the admin API.
    package let network: StoredNetworkPolicy
    /// The keys of `X-Portcullis-Assertion`.
    package let assertionKeys: AssertionKeyRing
    /// Notices changes made elsewhere (the CLI, another instance) by polling the audit head.
    package let changeWatcher: ChangeWatcher
    /// Applies changes the store announces (PostgreSQL), when it does.
    package let changeListener: StoreChangeListener?
    /// Active sessions and revocation propagation.
    package let sessionMetrics: SessionMetrics
    /// Counts the active sessions for ``sessionMetrics``.
    package let activeSessionsSampler: ActiveSessionsSampler
    /// Refreshes users' groups with their refresh tokens, when a key to keep them is configured.
    package let identitySync: IdentitySync?
    package let identityRefresher: IdentityRefresher?
    /// The suspicious-session signals (and the history pruning).
    package let sessionRisk: SessionRiskMonitor
    /// Sends new flags to `sessions.risk.webhook`, when it is set.
    package let sessionRiskAlerts: SessionRiskAlerts?
    private let controlPlaneResponder: RouterResponder<ControlPlaneRequestContext>
    package let logger: Logger

    package struct Dependencies: Sendable {
        package var store: any GatewayStore
        /// The store's change feed (PostgreSQL); `nil` for SQLite.
        package var changeFeed: (any StoreChangeFeed)?
        package var geoIP: any GeoIPResolver
        /// The OIDC client secret, read by the caller from its file or environment variable.
        package var clientSecret: String?
        /// The SCIM bearer token (`identity.scim`), read likewise.
        package var scimToken: String?
        /// The key refresh tokens are sealed with (`identity.oidc.refresh_token_key_*`).
        package var refreshTokenKey: String?
        /// The key the session risk webhook's bodies are signed with (`sessions.risk.webhook.secret_*`).
        package var riskWebhookSecret: String?
        /// The clock of the suspicious-session signals at sign-in (tests move it to sign in
        /// "ten minutes later").
        package var riskClock: @Sendable () -> Date = { Date() }
        package var metricsFactory: any MetricsFactory
        package var accessLog: AccessLog
        package var logger: Logger
        package var group: any EventLoopGroup

        package init(
            store: any GatewayStore, changeFeed: (any StoreChangeFeed)? = nil, geoIP: any GeoIPResolver, clientSecret: String?,
            scimToken: String? = nil, refreshTokenKey: String? = nil, riskWebhookSecret: String? = nil, metricsFactory: any MetricsFactory,
            accessLog: AccessLog, logger: Logger, group: any EventLoopGroup
        ) {
            self.riskWebhookSecret = riskWebhookSecret
            self.scimToken = scimToken
            self.refreshTokenKey = refreshTokenKey
            self.store = store
            self.changeFeed = changeFeed
            self.geoIP = geoIP
            self.clientSecret = clientSecret
            self.metricsFactory = metricsFactory
            self.accessLog = accessLog
            self.logger = logger
            self.group = group
        }
    }

    package init(configuration: GatewayConfiguration, dependencies: Dependencies) async throws {
        self.configuration = configuration
        self.store = dependencies.store
        self.logger = dependencies.logger
        let logger = dependencies.logger
        let store = dependencies.store
        store.countGroupMemberships(from: configuration.identity.groupSource)
        try await Self.warnAboutMappingsToReview(store, logger: logger)
        let version = PolicyVersion()
        policyVersion = version
        let network = StoredNetworkPolicy()
        try await network.reload(from: store)
        self.network = network
        let deadline = StoreDeadline(configuration.storeRequestDeadline)
        let assertionKeys = AssertionKeyRing(store: store, logger: logger)
        try await assertionKeys.refresh()
        self.assertionKeys = assertionKeys
        let upstreamIdentity = UpstreamIdentity(
            keys: assertionKeys, issuer: configuration.server.publicURL.origin, version: version, logger: logger
        )
        let cache = SessionCache(version: version)
        let credentialTags = CredentialTags(key: try await store.sharedSecret(named: CredentialTags.secretName) { CredentialTags.newKey() })
        // One bound on lookups of unknown credentials, cookies and API tokens together (and on
        // sign-outs by cookie), sized to the store's pool.
        let lookups = CredentialLookupGate(tags: credentialTags, poolSize: configuration.store.poolSize)
        let sessions = SessionService(
            store: dependencies.store, cache: cache, settings: configuration.sessions, geoIP: dependencies.geoIP,
            credentialTags: credentialTags, lookups: lookups, logger: logger
        )
        self.sessions = sessions
        let sessionMetrics = SessionMetrics(factory: dependencies.metricsFactory)
        var alerts: SessionRiskAlerts?
        if let webhook = configuration.sessions.risk.webhook, configuration.sessions.risk.enabled {
            guard let secret = dependencies.riskWebhookSecret, secret.utf8.count >= SessionRiskWebhook.minimumSecretLength else {
                throw StoreError(
                    operation: "start",
                    reason: "sessions.risk.webhook needs its secret, at least \(SessionRiskWebhook.minimumSecretLength) characters long"
                )
            }
            alerts = try SessionRiskAlerts(
                settings: .init(url: webhook.url, secret: SymmetricKey(data: Data(secret.utf8)), caFile: webhook.caFile),
                logger: logger, onOutcome: { sessionMetrics.recordAlert($0) }
            )
        }
        sessionRiskAlerts = alerts
        let risk = SessionRiskMonitor(
            store: dependencies.store, cache: cache, configuration: configuration.sessions.risk, alerts: alerts, logger: logger,
            now: dependencies.riskClock, onFlag: { sessionMetrics.recordFlag($0) }
        )
        sessionRisk = risk

        var verifier: TokenVerifier?
        var bearer: BearerTokenAuthenticator?
        if let oidc = configuration.identity.oidc {
            let provider = try OIDCProviderClient(issuer: oidc.issuer, caFile: oidc.caFile, logger: logger)
            self.provider = provider
            let keys = SigningKeySet(logger: logger) { try await provider.jwks() }
            let tokenVerifier = TokenVerifier(keys: keys, maximumBytes: configuration.server.limits.maxTokenBytes)
            verifier = tokenVerifier
            if let bearerSettings = configuration.identity.bearer {
                bearer = BearerTokenAuthenticator(
                    verifier: tokenVerifier, issuer: oidc.issuer, audiences: bearerSettings.audiences, clockSkew: oidc.clockSkew,
                    store: dependencies.store, oidc: oidc, maxStaleness: configuration.sessions.maxStaleness, version: version,
                    deadline: deadline, logger: logger
                )
            }
        } else {
            provider = nil
        }
        var addressChanges: (@Sendable (SessionAddressChange) async -> Void)?
        if risk.isEnabled {
            addressChanges = { change in await risk.assessAddressChange(change) }
        }
        authenticator = GatewayAuthenticator(
            store: dependencies.store, cache: cache, settings: configuration.sessions, geoIP: dependencies.geoIP,
            bearer: bearer,
            apiTokens: APITokenAuthenticator(
                store: store, maxStaleness: configuration.sessions.maxStaleness, version: version, deadline: deadline, lookups: lookups,
                logger: logger
            ),
            logger: logger,
            upstreamHeaders: { user, route in upstreamIdentity.headers(for: user, route: route) },
            signingKeys: assertionKeys,
            deadline: deadline,
            lookups: lookups,
            onAddressChange: addressChanges
        )
        let gateway = try Gateway(
            configuration: configuration, geoIP: dependencies.geoIP, authenticator: authenticator,
            metrics: GatewayMetrics(factory: dependencies.metricsFactory), accessLog: dependencies.accessLog,
            logger: logger, group: dependencies.group, storedNetwork: { network.current }
        )
        self.gateway = gateway
        changeWatcher = ChangeWatcher(
            store: store, version: version, network: network, refreshPolicy: { try gateway.refreshPolicy() },
            deadline: StoreDeadline(max(ChangeWatcher.readinessDeadline.duration, deadline.duration)), logger: logger
        )
        self.sessionMetrics = sessionMetrics
        activeSessionsSampler = ActiveSessionsSampler(
            store: store, metrics: sessionMetrics, idleTimeout: { gateway.runtime.snapshot.configuration.sessions.idleTimeout },
            logger: logger
        )
        changeListener = dependencies.changeFeed.map { feed in
            StoreChangeListener(
                feed: feed, cache: cache, network: network, store: store, refreshPolicy: { try gateway.refreshPolicy() },
                metrics: sessionMetrics, logger: logger
            )
        }

        let router = Router(context: ControlPlaneRequestContext.self)
        router.add(middleware: InternalOriginMiddleware(token: gateway.runtime.controlPlaneToken))
        var identitySync: IdentitySync?
        if let oidc = configuration.identity.oidc, let provider, let verifier {
            guard let clientSecret = dependencies.clientSecret else {
                throw StoreError(operation: "start", reason: "identity.oidc needs its client secret")
            }
            if oidc.refreshTokenKey != nil {
                guard let key = dependencies.refreshTokenKey, let sealer = RefreshTokenSealer(secret: key) else {
                    throw StoreError(operation: "start", reason: "identity.oidc.refresh_token_key needs at least 32 characters")
                }
                identitySync = IdentitySync(
                    store: store, sessions: sessions, provider: provider, verifier: verifier, sealer: sealer,
                    settings: .init(oidc: oidc, clientSecret: clientSecret, groupSource: configuration.identity.groupSource), logger: logger
                )
            } else {
                logger.notice("identity.oidc.refresh_token_key is not set: groups refresh only at sign-in, and sync now is unavailable")
            }
            let stateKey = SymmetricKey(data: try await dependencies.store.sharedSecret(named: "login-state-key") {
                SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            })
            IdentityEndpoints(
                settings: .init(
                    publicURL: configuration.server.publicURL, oidc: oidc, clientSecret: clientSecret, groupSource: configuration.identity.groupSource
                ),
                provider: provider, verifier: verifier, sessions: sessions, identitySync: identitySync, risk: risk, stateKey: stateKey,
                logger: logger
            ).register(on: router)
        }
        self.identitySync = identitySync
        identityRefresher = identitySync.flatMap { sync in
            configuration.identity.oidc.map { IdentityRefresher(sync: sync, store: store, interval: $0.refreshInterval, logger: logger) }
        }
        let csrfKey = SymmetricKey(data: try await store.sharedSecret(named: "csrf-key") {
            SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        })
        AdminAPI(AdminAPI.Dependencies(
            store: store, sessions: sessions, runtime: gateway.runtime, network: network,
            refreshPolicy: { try gateway.refreshPolicy() }, keys: assertionKeys, csrfKey: csrfKey,
            publicOrigin: configuration.server.publicURL.origin, identitySync: identitySync, logger: logger, deadline: deadline
        )).register(on: router)
        ConsoleEndpoints().register(on: router)
        if configuration.identity.scim != nil {
            guard let token = dependencies.scimToken, token.utf8.count >= 32 else {
                throw StoreError(operation: "start", reason: "identity.scim needs its token, at least 32 characters long")
            }
            SCIMEndpoints(SCIMEndpoints.Dependencies(
                store: store, cache: cache, token: token, publicOrigin: configuration.server.publicURL.origin,
                maximumBodyBytes: configuration.server.limits.maxBodyBytes, logger: logger, deadline: deadline
            )).register(on: router)
        }
        controlPlaneResponder = router.buildResponder()
    }

    /// The control plane on a loopback port of its own; the data path learns the port.
    package func makeControlPlane() -> some ApplicationProtocol {
        let runtime = gateway.runtime
        return Application(
            responder: controlPlaneResponder,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port {
                    runtime.setControlPlane(Upstream(scheme: .http, host: "127.0.0.1", port: port))
                }
            },
            logger: logger
        )
    }

    /// Services that run beside the listeners: the signing-key refresher, the change watcher,
    /// the active-sessions count, (PostgreSQL) the change listener and (with a refresh token key)
    /// the identity refresher, the session history pruning and (with a webhook) the alerts.
    package var backgroundServices: [any Service] {
        [assertionKeys, changeWatcher, activeSessionsSampler, sessionRisk] + (changeListener.map { [$0] } ?? [])
            + (identityRefresher.map { [$0] } ?? []) + (sessionRiskAlerts.map { [$0] } ?? [])
    }

    package func shutdown() async {
        await provider?.shutdown()
    }

    /// Mappings the v6 migration kept for both sources of membership because it could not tell
    /// which one they were made for: said at every start until an admin chooses.
    static func warnAboutMappingsToReview(_ store: any AdministrationStore, logger: Logger) async throws {
        for summary in try await store.groups() where !summary.group.mappingsToReview.isEmpty {
            logger.warning("a group's role mapping counts for both sign-in claims and SCIM: choose the source it is for", metadata: [
                "group": "\(summary.group.name)",
                "sources": "\(summary.group.mappingsToReview.sorted().map(\.rawValue).joined(separator: ","))",
                "members": "scim \(summary.membersBySource[.scim] ?? 0), oidc \(summary.membersBySource[.oidc] ?? 0)",
            ])
        }
    }
}
