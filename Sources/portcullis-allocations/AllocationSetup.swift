import Crypto
import _CryptoExtras
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisCore
import PortcullisTokens
import PortcullisDataPath
import PortcullisDataPathTesting
import PortcullisGeoIP
import PortcullisServer
import PortcullisStore
import Prometheus

/// The data path as `portcullis serve` assembles it, in memory: a signed-in super admin with a
/// session, an API token and an RS256 bearer JWT in a real SQLite store; the session cache,
/// bearer and API-token authenticators warmed by one real authentication each; routes like
/// bench/proxy's (tenant greenlist and a GeoIP country rule on each).
final class AllocationSetup {
    let cookie: String
    let bearer: String
    let apiToken: String
    /// Makes the in-memory data path, on the calling thread (an embedded event loop stays on
    /// the thread that made it).
    let makeGateway: () -> InMemoryGateway
    private let folder: String

    private init(makeGateway: @escaping () -> InMemoryGateway, cookie: String, bearer: String, apiToken: String, folder: String) {
        self.makeGateway = makeGateway
        self.cookie = cookie
        self.bearer = bearer
        self.apiToken = apiToken
        self.folder = folder
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    static let issuer = "https://idp.allocations.test"
    static let audience = "portcullis-bench-api"

    static func make() async throws -> AllocationSetup {
        let folder = NSTemporaryDirectory() + "portcullis-allocations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let logger = Logger(label: "portcullis") { _ in SwiftLogNoOpLogHandler() }
        let store = try SQLiteStore(path: folder + "/portcullis.sqlite")
        let now = Date()

        // The user, made super admin, with a session, an API token and a bearer JWT.
        let user = try await store.recordLogin(LoginProfile(subject: "bench", email: "bench@example.test", name: "Bench"), at: now)
        let audit = AuditContext(actor: "allocations", actorIsSuperAdmin: true, sourceIP: nil, at: now)
        _ = try await store.bootstrapSuperAdmin(userID: user.id, force: false, audit: audit)
        let loopback = IPAddress(ipv4: 127, 0, 0, 1)
        let tags = CredentialTags(key: try await store.sharedSecret(named: CredentialTags.secretName) { CredentialTags.newKey() })
        let (cookie, hash) = SessionToken.make(tags: tags)
        try await store.insertSession(SessionRecord(
            idHash: hash, userID: user.id, createdAt: now, lastSeenAt: now, absoluteExpiresAt: now.addingTimeInterval(86_400),
            createdIP: loopback, lastIP: loopback, createdLocation: .unknown, lastLocation: .unknown, userAgent: "wrk",
            device: .unknown, authMethod: .oidc, idpSessionID: nil, amr: [], acr: nil, mfa: false
        ))
        let (apiToken, tokenHash) = APITokenSecret.make(tags: tags)
        try await store.insertAPIToken(
            APITokenRecord(id: UUID().uuidString, ownerID: user.id, name: "allocations", scope: .user,
                           displayPrefix: String(apiToken.prefix(10)), createdAt: now, createdBy: user.id),
            secretHash: tokenHash, audit: audit
        )
        let signer = try RS256Signer()
        let bearer = try signer.token(claims: [
            "iss": .string(issuer), "aud": .string(audience), "sub": .string("bench"),
            "iat": .number(now.timeIntervalSince1970.rounded(.down)), "exp": .number(now.timeIntervalSince1970.rounded(.down) + 3_600),
        ])

        // The authenticators as GatewayAssembly wires them.
        let version = PolicyVersion()
        let sessions = SessionConfiguration(maxStaleness: .seconds(300))
        let (resolver, _) = try MaxMindGeoIPResolver.open(cityPath: "Tests/Fixtures/geoip/portcullis-test-city.mmdb", asnPath: nil)
        let geoIP = CachedGeoIPResolver(resolver)
        let keys = AssertionKeyRing(store: store, logger: logger)
        try await keys.refresh()
        let identity = UpstreamIdentity(keys: keys, issuer: "https://localhost:8443", version: version, logger: logger)
        let jwks = signer.jwks
        let verifier = TokenVerifier(keys: SigningKeySet(logger: logger) { jwks }, maximumBytes: 16_384)
        let oidc = OIDCConfiguration(issuer: issuer, clientID: "portcullis", clientSecret: .environment("UNUSED"))
        let lookups = CredentialLookupGate(tags: tags)
        let authenticator = GatewayAuthenticator(
            store: store, cache: SessionCache(version: version), settings: sessions, geoIP: geoIP,
            bearer: BearerTokenAuthenticator(
                verifier: verifier, issuer: issuer, audiences: [audience], clockSkew: .seconds(60), store: store, oidc: oidc,
                maxStaleness: sessions.maxStaleness, version: version, logger: logger
            ),
            apiTokens: APITokenAuthenticator(store: store, maxStaleness: sessions.maxStaleness, version: version, lookups: lookups, logger: logger),
            logger: logger,
            upstreamHeaders: { user, route in identity.headers(for: user, route: route) },
            signingKeys: keys,
            lookups: lookups
        )
        for header in [("Cookie", "__Host-portcullis=\(cookie)"), ("Authorization", "Bearer \(bearer)"), ("Authorization", "Bearer \(apiToken)")] {
            let request = AuthenticationRequest(headers: HTTPHeaders([header]), client: loopback, now: now)
            let authentication: Authentication
            switch authenticator.authenticate(request, on: MultiThreadedEventLoopGroup.singleton.next()) {
            case .resolved(let resolved): authentication = resolved
            case .pending(let future): authentication = try await future.get()
            }
            guard case .user = authentication.identity else {
                throw AllocationCounts.UsageError("warming up \(header.0) gave \(authentication.identity)")
            }
        }

        let upstream = Upstream(scheme: .http, host: "127.0.0.1", port: 18_080)
        let countries = CountryRule.deny(["KP"])
        let routes = [
            Route(name: "public", prefix: ["public"], target: .upstream(upstream), requirement: .public, countries: countries),
            Route(name: "app", prefix: ["app"], target: .upstream(upstream), requirement: .authenticated, countries: countries),
            Route(name: "admin", prefix: ["admin"], target: .upstream(upstream), requirement: .permission(.teammatesView), countries: countries),
            Route(name: "api", prefix: ["api"], target: .upstream(upstream), requirement: .authenticated, allowBearer: true, countries: countries),
        ]
        let corp = Greenlist(name: "corp", entries: [
            Greenlist.Entry(range: try IPRange(parsing: "127.0.0.0/8"), label: "loopback"),
            Greenlist.Entry(range: try IPRange(parsing: "198.51.100.0/24"), label: "office"),
        ])
        guard let output = FileHandle(forWritingAtPath: "/dev/null") else { throw AllocationCounts.UsageError("cannot open /dev/null") }
        let accessLog = AccessLog(sink: BufferedLogSink(handle: output))
        let metrics = PrometheusMetricsSetup.factory(registry: PrometheusCollectorRegistry())
        let makeGateway = {
            InMemoryGateway(
                routes: routes, sessions: sessions, network: NetworkConfiguration(greenlists: ["corp": corp], tenantGreenlist: "corp"),
                geoIP: geoIP, authenticator: authenticator, metrics: metrics, accessLog: accessLog
            )
        }
        return AllocationSetup(makeGateway: makeGateway, cookie: cookie, bearer: bearer, apiToken: apiToken, folder: folder)
    }
}

/// RS256 JWTs and their JWKS, as an IdP signs bearer tokens.
struct RS256Signer {
    let key: _RSA.Signing.PrivateKey
    let keyID = "allocations-rsa"

    init() throws {
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    var jwks: Data {
        let primitives = try? key.publicKey.getKeyPrimitives()
        let jwk: JSONValue = .object([
            "kty": .string("RSA"), "kid": .string(keyID), "use": .string("sig"), "alg": .string("RS256"),
            "n": .string(primitives.map { Data($0.modulus).base64URLEncodedString() } ?? ""),
            "e": .string(primitives.map { Data($0.publicExponent).base64URLEncodedString() } ?? ""),
        ])
        return (try? JSONEncoder().encode(JSONValue.object(["keys": .array([jwk])]))) ?? Data()
    }

    func token(claims: [String: JSONValue]) throws -> String {
        let header = try JSONEncoder().encode(JSONValue.object(["alg": .string("RS256"), "kid": .string(keyID), "typ": .string("JWT")]))
        let payload = try JSONEncoder().encode(JSONValue.object(claims))
        let input = header.base64URLEncodedString() + "." + payload.base64URLEncodedString()
        let signature = try key.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + signature.rawRepresentation.base64URLEncodedString()
    }
}
