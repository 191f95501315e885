import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisTestSupport
import Testing

/// A minimal valid document; tests change parts of it.
private let valid = """
server:
  listen: "127.0.0.1:8443"
  public_url: "https://localhost:8443"
  tls:
    certificates:
      - { cert_file: server.pem, key_file: server-key.pem }
identity:
  oidc:
    issuer: "https://idp.example.com"
    client_id: portcullis
    client_secret_env: OIDC_SECRET
network:
  greenlists:
    corp:
      - { cidr: 198.51.100.0/24, label: office }
  tenant_greenlist: corp
routes:
  - name: app
    path: /
    upstream: "http://127.0.0.1:8080"
    require: authenticated
"""

private let everythingExists = ConfigEnvironment(fileExists: { _ in true }, variable: { _ in "secret" })

private func decode(_ yaml: String, file: String = "conf/test.yaml", environment: ConfigEnvironment = everythingExists)
    -> Result<GatewayConfiguration, ConfigurationError> {
    do {
        let root = try ConfigurationFile.parse(text: yaml, file: file)
        return GatewayConfiguration.decode(root, file: file, environment: environment)
    } catch {
        return .failure(error)
    }
}

private func problems(_ yaml: String, environment: ConfigEnvironment = everythingExists) -> [ConfigProblem] {
    if case .failure(let error) = decode(yaml, environment: environment) { return error.problems }
    return []
}

@Suite("Configuration files")
struct ConfigurationFileTests {
    @Test("a valid document decodes into typed values")
    func validDocument() throws {
        let configuration = try decode(valid).get()
        #expect(configuration.server.listen == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(configuration.server.publicURL.callbackURL == "https://localhost:8443/_portcullis/callback")
        #expect(configuration.server.tls.certificates.first?.certificateFile == "conf/server.pem")
        #expect(configuration.identity.oidc?.clientSecret == .environment("OIDC_SECRET"))
        #expect(configuration.sessions == SessionConfiguration())
        guard case .sqlite(let path) = configuration.store else {
            Issue.record("expected the SQLite default")
            return
        }
        #expect(path == "var/portcullis.sqlite")
        #expect(configuration.network.tenantGreenlist == "corp")
        #expect(configuration.routes.map(\.name) == ["app"])
    }

    @Test("the identity provider's allowlists: identity.scim.allowed_networks and identity.oidc.backchannel_allowed_networks")
    func identityProviderNetworks() throws {
        let configuration = try decode(valid).get()
        #expect(configuration.accessPolicy(geoIP: NoGeoIPResolver()).identityProviderNetworks == IdentityProviderNetworks())
        let yaml = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET", with: """
                client_secret_env: OIDC_SECRET
                backchannel_allowed_networks: [20.190.128.0/18]
              scim: { token_env: SCIM_TOKEN, allowed_networks: [20.190.128.0/18, "2603:1000::/24"] }
            """)
        let networks = try decode(yaml).get().accessPolicy(geoIP: NoGeoIPResolver()).identityProviderNetworks
        #expect(networks.scim == [try IPRange(parsing: "20.190.128.0/18"), try IPRange(parsing: "2603:1000::/24")])
        #expect(networks.backchannelLogout == [try IPRange(parsing: "20.190.128.0/18")])
        let bad = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET", with: """
                client_secret_env: OIDC_SECRET
                backchannel_allowed_networks: []
              scim: { token_env: SCIM_TOKEN, allowed_networks: [20.190.128.0/33] }
            """)
        let found = problems(bad).map(\.path)
        #expect(found.contains("identity.oidc.backchannel_allowed_networks"), "\(found)")
        #expect(found.contains { $0.hasPrefix("identity.scim.allowed_networks") }, "\(found)")
    }

    /// Review round 7: a prefix segment a lenient server reads as a separator or a dot segment
    /// could never be matched as written (every request to it reads as another path), so it is
    /// a configuration error, named with the route's key path; `/café` and `/東京` are not.
    @Test("a route prefix with a character servers fold into / or \\ (or a folded dot segment) is refused; folding letters are not")
    func walkingPrefixRefused() throws {
        for prefix in ["/東京／大阪", "/a＼b", "/notes/℅", "/．．x/．．"] {
            let found = problems(valid.replacingOccurrences(of: "    path: /\n", with: "    path: \"\(prefix)\"\n"))
            let problem = found.first { $0.path == "routes[0].path" }
            #expect(problem?.message.contains("fold into / or") == true, "\(prefix): \(found.map(\.description))")
        }
        for prefix in ["/café", "/Новости", "/東京"] {
            let yaml = valid.replacingOccurrences(of: "    path: /\n", with: "    path: \"\(prefix)\"\n")
            #expect(problems(yaml).isEmpty, "\(prefix): \(problems(yaml).map(\.description))")
        }
    }

    @Test("admin.require_mfa, admin.max_auth_age and a route's max_auth_age (issue 21 item 6)")
    func recentSignInKeys() throws {
        #expect(try decode(valid).get().admin == AdminConfiguration())
        let yaml = valid + "\n    max_auth_age: 10m\nadmin:\n  require_mfa: true\n  max_auth_age: 15m\n"
        let configuration = try decode(yaml).get()
        #expect(configuration.admin == AdminConfiguration(requireMFA: true, maxAuthAge: .seconds(900)))
        #expect(configuration.routes.first?.maxAuthAge == .seconds(600))
        let bad = valid.replacingOccurrences(of: "require: authenticated", with: "require: public\n    max_auth_age: 10m")
            + "\nadmin:\n  require_mfa: maybe\n  max_auth_age: 5s\n  max_age: 1m\n"
        let found = problems(bad).map(\.path)
        #expect(found.contains("routes[0].max_auth_age"), "\(found)")
        #expect(found.contains("admin.require_mfa"), "\(found)")
        #expect(found.contains("admin.max_auth_age"), "\(found)")
        #expect(found.contains { $0.hasPrefix("admin") && $0.contains("max_age") }, "\(found)")
    }

    @Test("identity keys of issue 12: userinfo, trust_email, refresh_interval, the refresh token key, groups.source")
    func identityKeys() throws {
        let defaults = try #require(try decode(valid).get().identity.oidc)
        #expect(defaults.userInfo == .auto && defaults.trustEmail == false && defaults.refreshInterval == .seconds(3_600))
        #expect(defaults.refreshTokenKey == nil)
        #expect(try decode(valid).get().identity.groupSource == .both)
        let yaml = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET", with: """
                client_secret_env: OIDC_SECRET
                userinfo: always
                trust_email: true
                refresh_interval: 15m
                refresh_token_key_env: REFRESH_KEY
              groups: { source: scim }
            """)
        let configuration = try decode(yaml).get()
        let oidc = try #require(configuration.identity.oidc)
        #expect(oidc.userInfo == .always && oidc.trustEmail && oidc.refreshInterval == .seconds(900))
        #expect(oidc.refreshTokenKey == .environment("REFRESH_KEY"))
        #expect(configuration.identity.groupSource == .scim)
        let bad = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET", with: """
                client_secret_env: OIDC_SECRET
                userinfo: sometimes
                trust_email: maybe
                refresh_interval: 0s
                refresh_token_key_env: A
                refresh_token_key_file: b
              groups: { source: ldap, extra: 1 }
            """)
        let found = problems(bad).map(\.path)
        for path in ["identity.oidc.userinfo", "identity.oidc.trust_email", "identity.oidc.refresh_interval", "identity.oidc", "identity.groups.extra"] {
            #expect(found.contains(path), "\(path) in \(found)")
        }
    }

    @Test("the shipped conf/portcullis.yaml is valid")
    func shippedConfiguration() throws {
        let path = FixturePaths.repositoryRoot + "/conf/portcullis.yaml"
        let configuration = try ConfigurationFile.load(path: path, environment: .networkOnly).get()
        #expect(configuration.network.tenantGreenlist == "corp")
        #expect(configuration.routes.count >= 3)
        #expect(configuration.identity.oidc?.issuer == "https://localhost:9443")
    }

    @Test("several problems in one file are all reported, each with file, line, key path and expectation")
    func manyProblems() {
        let yaml = """
        server:
          listen: "localhost"
          public_url: "http://localhost:8443"
          tls:
            certificates:
              - { cert_file: missing.pem, key_file: server-key.pem }
          trusted_proxies: [10.0.0.0/33]
          lisen: oops
        sessions:
          idle_timeout: 8 hours
          max_staleness: 10m
        identity:
          oidc:
            issuer: "https://idp.example.com"
            client_id: portcullis
            client_secret_env: NOT_SET_ANYWHERE
        network:
          greenlists:
            corp:
              - { cidr: "1.2.3", label: bad }
        routes:
          - name: teammates
            path: /admin/teammates
            upstream: "http://127.0.0.1:8080"
            require: { permission: teammates.veiw }
            greenlist: vpn
            mfa: sometimes
          - name: teammates
            path: /x
            upstream: "ftp://127.0.0.1"
            require: everyone
        """
        let environment = ConfigEnvironment(fileExists: { !$0.hasSuffix("missing.pem") }, variable: { _ in nil })
        let found = problems(yaml, environment: environment)
        let byPath = Dictionary(grouping: found, by: \.path)
        let expectedPaths = [
            "server.listen", "server.public_url", "server.tls.certificates[0].cert_file", "server.trusted_proxies[0]",
            "server.lisen", "sessions.idle_timeout", "sessions.max_staleness", "identity.oidc.client_secret_env",
            "network.greenlists.corp[0].cidr", "routes[0].require.permission", "routes[0].greenlist", "routes[0].mfa",
            "routes[1].upstream", "routes[1].require",
        ]
        for path in expectedPaths {
            #expect(byPath[path] != nil, "no problem reported at \(path); got \(found.map(\.description))")
        }
        for problem in found {
            #expect(problem.file == "conf/test.yaml")
            #expect(problem.mark != nil, "\(problem)")
            #expect(problem.description.hasPrefix("conf/test.yaml:"))
        }
        // In the order of the file, as people read it.
        let positions = found.compactMap { $0.mark.map { [$0.line, $0.column] } }
        #expect(positions == positions.sorted { $0.lexicographicallyPrecedes($1) }, "\(found.map(\.description))")
        if case .failure(let error) = decode(yaml, environment: environment) {
            #expect(error.description.hasPrefix("conf/test.yaml has \(found.count) problems:\n"))
        }
        #expect(byPath["server.trusted_proxies[0]"]?.first?.message.contains("10.0.0.0/33") == true)
        #expect(byPath["network.greenlists.corp[0].cidr"]?.first?.message.contains("\"1.2.3\"") == true)
        #expect(byPath["routes[0].require.permission"]?.first?.message.contains("did you mean teammates.view?") == true)
        #expect(byPath["server.lisen"]?.first?.message.contains("did you mean listen?") == true)
        #expect(byPath["server.tls.certificates[0].cert_file"]?.first?.message.contains("missing.pem") == true)
        #expect(byPath["sessions.max_staleness"]?.first?.message.contains("5m") == true)
        #expect(byPath["routes[0].greenlist"]?.first?.message.contains("vpn") == true)
        #expect(byPath["identity.oidc.client_secret_env"]?.first?.message.contains("NOT_SET_ANYWHERE") == true)
        // The second route repeats the first one's name.
        #expect(found.contains { $0.path == "routes[1]" && $0.message.contains("already used") } || byPath["routes[1].upstream"] != nil)
    }

    /// Issue 28, item 5: the list exists; only its entry is wrong.
    @Test("one bad CIDR in a greenlist is reported once, at the entry; the lists and routes naming it are not told it is undeclared")
    func badCIDRIsNotAnUndeclaredList() {
        let yaml = valid.replacingOccurrences(of: "198.51.100.0/24", with: "198.51.100.0/33") + "\n    greenlist: corp\n" + """
          - name: vpn
            path: /vpn
            upstream: "http://127.0.0.1:8081"
            require: authenticated
            greenlist: nowhere
        """
        let found = problems(yaml)
        #expect(found.map(\.path) == ["network.greenlists.corp[0].cidr", "routes[1].greenlist"], "\(found.map(\.description))")
        let cidr = found.first
        #expect(cidr?.file == "conf/test.yaml")
        #expect(cidr?.message.contains("expected a prefix length from 0 to 32, got \"198.51.100.0/33\"") == true, "\(found.map(\.description))")
        #expect(!found.contains { $0.message.contains("\"corp\"") }, "\(found.map(\.description))")
        // A list that really is not there is still named.
        #expect(found.last?.message.contains("names greenlist \"nowhere\", which is not declared under network.greenlists") == true)
    }

    @Test("wrong types name what was expected", arguments: [
        ("server: [1, 2]", "server", "expected a mapping"),
        ("routes: {}", "routes", "expected a list"),
        ("server:\n  listen: \"127.0.0.1:8443\"\n  public_url: \"https://localhost\"\n  proxy_protocol: maybe\n  tls: {certificates: []}", "server.proxy_protocol", "true or false"),
    ])
    func wrongTypes(_ yaml: String, _ path: String, _ fragment: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.path == path && $0.message.contains(fragment) }, "\(found)")
    }

    @Test("forward_auth.original_url_header: X-Original-URI by default, X-Original-URL, anything else named with its key path")
    func forwardAuthSource() throws {
        #expect(try decode(valid).get().forwardAuth.originalURLHeader == .originalURI)
        let url = try decode(valid + "\nforward_auth: { original_url_header: x-original-url }\n").get()
        #expect(url.forwardAuth.originalURLHeader == .originalURL)
        let found = problems(valid + "\nforward_auth: { original_url_header: X-Forwarded-Uri }\n")
        #expect(found.contains { $0.path == "forward_auth.original_url_header" && $0.message.contains("\"X-Original-URI\" or \"X-Original-URL\"") },
                "\(found)")
        let unknown = problems(valid + "\nforward_auth: { trust_client: true }\n")
        #expect(unknown.contains { $0.path == "forward_auth.trust_client" && $0.message.contains("unknown key") }, "\(unknown)")
    }

    @Test("unknown top-level keys are refused")
    func unknownTopLevel() {
        let found = problems(valid + "\nlogging: { level: debug }\n")
        #expect(found.contains { $0.path == "logging" && $0.message.contains("unknown key") })
    }

    @Test("repeated keys are refused")
    func duplicateKeys() {
        let yaml = valid.replacingOccurrences(of: "  listen: \"127.0.0.1:8443\"", with: "  listen: \"127.0.0.1:8443\"\n  listen: \"127.0.0.1:9443\"")
        let found = problems(yaml)
        #expect(!found.isEmpty)
        #expect(found.contains { $0.message.contains("listen") })
    }

    @Test("a route needing sign-in without identity.oidc is refused")
    func needsOIDC() {
        let yaml = valid.replacingOccurrences(of: """
        identity:
          oidc:
            issuer: "https://idp.example.com"
            client_id: portcullis
            client_secret_env: OIDC_SECRET

        """, with: "")
        #expect(problems(yaml).contains { $0.message.contains("identity.oidc is not configured") })
    }

    @Test("routes may not claim the reserved prefix or a non-normalised path", arguments: ["/_portcullis/api", "/a/../b", "admin", "/a?x=1"])
    func badRoutePaths(_ path: String) {
        let yaml = valid.replacingOccurrences(of: "    path: /\n", with: "    path: \"\(path)\"\n")
        #expect(problems(yaml).contains { $0.path == "routes[0].path" }, "\(problems(yaml))")
    }

    @Test("plain http issuers are allowed on loopback only", arguments: [
        ("http://127.0.0.1:9000", true), ("http://localhost:9000/realms/x", true), ("http://idp.example.com", false),
        ("http://localhost.evil.com", false), ("https://idp.example.com/", true),
    ])
    func issuers(_ issuer: String, _ accepted: Bool) {
        let yaml = valid.replacingOccurrences(of: "https://idp.example.com", with: issuer)
        #expect(problems(yaml).contains { $0.path == "identity.oidc.issuer" } == !accepted)
    }

    @Test("a YAML alias bomb fails fast with a clear message")
    func aliasBomb() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        yaml += "server: *a12\n"
        let found = problems(yaml)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("alias bomb") == true)
    }

    @Test("aliases used as keys and explicit keys are refused before parsing", arguments: [
        "a: &a [x, x]\nb: {*a : 1}\n",
        "a: &a [x]\n*a : 1\n",
        "? [a, b]\n: 1\n",
    ])
    func aliasKeys(_ yaml: String) {
        let found = problems(yaml)
        #expect(found.count == 1)
        #expect(found.first?.mark != nil)
    }

    @Test("aliases as values and quoted stars are fine")
    func harmlessAliases() throws {
        let yaml = valid.replacingOccurrences(of: "upstream: \"http://127.0.0.1:8080\"", with: "upstream: &up \"http://127.0.0.1:8080\"")
            + "\n  - name: other\n    path: /other\n    upstream: *up\n    require: public\n"
        let configuration = try decode(yaml).get()
        #expect(configuration.routes.count == 2)
        let stars = valid.replacingOccurrences(of: "label: office", with: "label: \"*office*\"")
        #expect(try decode(stars).get().network.greenlists["corp"]?.entries.first?.label == "*office*")
    }

    @Test("broken YAML is reported with a line number")
    func brokenYAML() {
        let found = problems("server:\n  listen: [unclosed\nroutes: []\n")
        #expect(found.count == 1)
        #expect(found.first?.message.contains("not valid YAML") == true)
        #expect(found.first?.mark != nil)
    }

    @Test("empty, oversized and deeply nested documents are refused")
    func hostileDocuments() {
        #expect(problems("").first?.message.contains("empty") == true)
        let big = String(repeating: "# padding\n", count: 110_000)
        #expect(problems(big).first?.message.contains("larger than") == true)
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(!problems("server: " + deep).isEmpty)
    }

    @Test("a missing file names the file")
    func missingFile() {
        let result = ConfigurationFile.load(path: "/nonexistent/portcullis.yaml")
        guard case .failure(let error) = result else {
            Issue.record("loaded a missing file")
            return
        }
        #expect(error.description.contains("/nonexistent/portcullis.yaml"))
        #expect(error.description.contains("no such file"))
    }

    @Test("secrets must come from exactly one place")
    func secretSources() {
        let both = valid.replacingOccurrences(of: "client_secret_env: OIDC_SECRET", with: "client_secret_env: OIDC_SECRET\n    client_secret_file: s.txt")
        #expect(problems(both).contains { $0.message.contains("not both") })
        let neither = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET\n", with: "")
        #expect(problems(neither).contains { $0.message.contains("client_secret_file or client_secret_env") })
        let badName = valid.replacingOccurrences(of: "OIDC_SECRET", with: "\"not a name\"")
        #expect(problems(badName).contains { $0.path == "identity.oidc.client_secret_env" })
    }

    @Test("relative paths resolve against the file's folder")
    func relativePaths() {
        #expect(ConfigPaths.resolve("../certs/dev/server.pem", relativeTo: "conf") == "certs/dev/server.pem")
        #expect(ConfigPaths.resolve("geoip/x.mmdb", relativeTo: "/etc/portcullis") == "/etc/portcullis/geoip/x.mmdb")
        #expect(ConfigPaths.resolve("/abs/x", relativeTo: "conf") == "/abs/x")
        #expect(ConfigPaths.resolve("x", relativeTo: ".") == "./x")
        #expect(ConfigPaths.directory(of: "portcullis.yaml") == ".")
        #expect(ConfigPaths.directory(of: "/etc/p.yaml") == "/etc")
        #expect(ConfigPaths.directory(of: "/p.yaml") == "/")
    }

    @Test("dev's overrides replace the store and HSTS and leave everything else as written")
    func overrides() throws {
        let path = FixturePaths.repositoryRoot + "/conf/portcullis.yaml"
        let text = try ConfigurationFile.read(path: path)
        let changed = try ConfigurationFile.applying([
            ConfigurationOverride(["store"], .mapping([("sqlite", .mapping([("path", .scalar("/tmp/dev store/portcullis.sqlite"))]))])),
            ConfigurationOverride(["server", "tls", "hsts_max_age"], .scalar("0s")),
        ], to: text, file: path)
        let original = try ConfigurationFile.load(path: path, environment: .networkOnly).get()
        let root = try ConfigurationFile.parse(text: changed, file: path)
        let derived = try GatewayConfiguration.decode(root, file: path, environment: .networkOnly).get()
        guard case .sqlite(let storePath) = derived.store else {
            Issue.record("the store is not SQLite: \(derived.store)")
            return
        }
        #expect(storePath == "/tmp/dev store/portcullis.sqlite")
        #expect(derived.server.tls.hstsMaxAge == .zero)
        #expect(original.server.tls.hstsMaxAge == .seconds(31_536_000))
        #expect(derived.routes.map(\.name) == original.routes.map(\.name))
        #expect(derived.network.tenantGreenlist == original.network.tenantGreenlist)
        #expect(derived.identity.oidc?.issuer == original.identity.oidc?.issuer)
        #expect(derived.server.publicURL.origin == original.server.publicURL.origin)
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.applying([], to: "- a list", file: "x.yaml") }
    }
}

@Suite("Configuration: the data path's limits and route case rule")
struct DataPathConfigurationTests {
    @Test("body, send and stream-idle timeouts are read, defaulted and bounded")
    func limits() throws {
        let configured = valid.replacingOccurrences(
            of: "  tls:\n", with: "  limits: { body_timeout: 15s, send_timeout: 20s, stream_idle_timeout: 2m }\n  tls:\n"
        )
        let limits = try decode(configured).get().server.limits
        #expect(limits.bodyTimeout == .seconds(15))
        #expect(limits.sendTimeout == .seconds(20))
        #expect(limits.streamIdleTimeout == .seconds(120))
        let defaults = try decode(valid).get().server.limits
        #expect(defaults.bodyTimeout == .seconds(60))
        #expect(defaults.sendTimeout == .seconds(60))
        #expect(defaults.streamIdleTimeout == .seconds(300))
        let zero = valid.replacingOccurrences(of: "  tls:\n", with: "  limits: { body_timeout: 0s }\n  tls:\n")
        #expect(problems(zero).contains { $0.path == "server.limits.body_timeout" })
    }

    @Test("store.request_deadline: 1s by default, read as a duration, bounded; a bad one is named with file, line and key path")
    func storeRequestDeadline() throws {
        #expect(try decode(valid).get().storeRequestDeadline == .seconds(1))
        let configured = try decode(valid + "\nstore:\n  sqlite: { path: store.sqlite }\n  request_deadline: 750ms\n").get()
        #expect(configured.storeRequestDeadline == .milliseconds(750))
        guard case .sqlite = configured.store else {
            Issue.record("expected the SQLite store, got \(configured.store.kind)")
            return
        }
        let postgres = try decode(valid + "\nstore:\n  postgres: { url_env: DATABASE_URL }\n  request_deadline: 2s\n").get()
        #expect(postgres.storeRequestDeadline == .seconds(2))
        #expect(postgres.store.kind == "postgres")
        for (text, fragment) in [("soon", "a duration such as"), ("0s", "from 50ms to 30s"), ("1m", "from 50ms to 30s")] {
            let found = problems(valid + "\nstore:\n  sqlite: { path: store.sqlite }\n  request_deadline: \(text)\n")
            let problem = found.first { $0.path == "store.request_deadline" }
            #expect(problem?.message.contains(fragment) == true, "\(text): \(found.map(\.description))")
            #expect(problem?.description.hasPrefix("conf/test.yaml:") == true, "\(text): \(found.map(\.description))")
        }
        // The store itself is still required beside it.
        let alone = problems(valid + "\nstore:\n  request_deadline: 1s\n")
        #expect(alone.contains { $0.path == "store" && $0.message.contains("sqlite or postgres") }, "\(alone.map(\.description))")
    }

    @Test("store.postgres.max_connections: 8 by default, a whole number from 1 to 256; a bad one is named with its key path")
    func postgresPoolSize() throws {
        let plain = try decode(valid + "\nstore:\n  postgres: { url_env: DATABASE_URL }\n").get()
        #expect(plain.store.poolSize == 8)
        let sized = try decode(valid + "\nstore:\n  postgres: { url_env: DATABASE_URL, max_connections: 2 }\n").get()
        guard case .postgres(_, let connections, let listenURL) = sized.store else {
            Issue.record("expected the PostgreSQL store, got \(sized.store.kind)")
            return
        }
        #expect(connections == 2)
        #expect(listenURL == nil)
        // LISTEN's own URL (PgBouncer in front of queries), read as any secret is; half of it is refused.
        let bounced = try decode(valid + "\nstore:\n  postgres: { url_env: DATABASE_URL, listen_url_env: DATABASE_LISTEN_URL }\n").get()
        if case .postgres(_, _, let listen) = bounced.store {
            #expect(listen == .environment("DATABASE_LISTEN_URL"))
        } else {
            Issue.record("expected the PostgreSQL store, got \(bounced.store.kind)")
        }
        let both = problems(valid + "\nstore:\n  postgres: { url_env: A, listen_url_env: B, listen_url_file: c }\n")
        #expect(both.contains { $0.path == "store.postgres" && $0.message.contains("not both") }, "\(both.map(\.description))")
        for text in ["0", "257", "-1", "many", "2.5"] {
            let found = problems(valid + "\nstore:\n  postgres: { url_env: DATABASE_URL, max_connections: \(text) }\n")
            let problem = found.first { $0.path == "store.postgres.max_connections" }
            #expect(problem?.message.contains("a whole number from 1 to 256") == true, "\(text): \(found.map(\.description))")
            #expect(problem?.description.hasPrefix("conf/test.yaml:") == true, "\(text): \(found.map(\.description))")
        }
        #expect(try decode(valid + "\nstore:\n  sqlite: { path: store.sqlite }\n").get().store.poolSize == 16)
    }

    /// Issue 28 item 8: one rule for every file that holds a secret (TLS keys, client secret,
    /// refresh token key, SCIM token, webhook key, PostgreSQL URLs): no access for others and
    /// no group write, so 0600 or 0640; any other mode is named with its key path and the fix.
    @Test("a secret file others can read, or its group can write, is refused with its key path and the chmod that fixes it; 0600 and 0640 pass")
    func secretFileModes() throws {
        let yaml = valid.replacingOccurrences(of: "    client_secret_env: OIDC_SECRET", with: """
                client_secret_file: client-secret
                refresh_token_key_file: refresh-key
              scim: { token_file: scim-token }
            store:
              postgres: { url_file: postgres-url, listen_url_file: listen-url }
            sessions:
              risk:
                webhook: { url: "https://hooks.example.com/x", secret_file: hook-key }
            """)
        let secretKeys = [
            "server.tls.certificates[0].key_file", "identity.oidc.client_secret_file", "identity.oidc.refresh_token_key_file",
            "identity.scim.token_file", "store.postgres.url_file", "store.postgres.listen_url_file", "sessions.risk.webhook.secret_file",
        ]
        for mode: UInt32 in [0o644, 0o604, 0o660, 0o601, 0o666] {
            let environment = ConfigEnvironment(fileExists: { _ in true }, variable: { _ in nil }, fileMode: { path in
                path.hasSuffix(".pem") && !path.hasSuffix("-key.pem") ? 0o644 : mode
            })
            let found = problems(yaml, environment: environment)
            for key in secretKeys {
                let problem = found.first { $0.path == key }
                #expect(problem?.message.contains("holds a secret but has mode 0\(String(mode, radix: 8))") == true, "\(key) at \(String(mode, radix: 8)): \(found.map(\.description))")
                #expect(problem?.message.contains("chmod 0640 ") == true)
            }
            // A certificate is no secret: 0644 is fine.
            #expect(!found.contains { $0.path == "server.tls.certificates[0].cert_file" })
        }
        for mode: UInt32 in [0o600, 0o640, 0o400, 0o440] {
            let environment = ConfigEnvironment(fileExists: { _ in true }, variable: { _ in nil }, fileMode: { _ in mode })
            let found = problems(yaml, environment: environment)
            #expect(found.isEmpty, "\(String(mode, radix: 8)): \(found.map(\.description))")
        }
    }

    /// Review round 8: a route whose prefix a lenient server serves as another route's would
    /// be decided by the order of the routes; it is refused, named with its key path.
    @Test("a route whose prefix imitates another route's is refused; a custom method's route or another host's is not")
    func imitatingRouteRefused() throws {
        let protected = "\n  - { name: administration, path: /administration, upstream: \"http://127.0.0.1:8080\", require: authenticated }"
        for prefix in ["/administration.", "/administration::$DATA", "/ADMINI~1", "/ａdministration", "/administration./reports"] {
            let yaml = valid + protected + "\n  - { name: imitation, path: \"\(prefix)\", upstream: \"http://127.0.0.1:8080\", require: public }"
            let found = problems(yaml)
            let problem = found.first { $0.path == "routes[2]" }
            #expect(problem?.message.contains("imitates the path /administration of routes[1]") == true, "\(prefix): \(found.map(\.description))")
        }
        for (prefix, host) in [("/administration:batchGet", ""), ("/administration/ADMINI~1", ""), ("/administration.", ", host: other.example.com")] {
            let yaml = valid + "\n  - { name: administration, path: /administration, host: admin.example.com, upstream: \"http://127.0.0.1:8080\", require: authenticated }"
                + "\n  - { name: other, path: \"\(prefix)\"\(host), upstream: \"http://127.0.0.1:8080\", require: public }"
            let found = problems(host.isEmpty ? yaml.replacingOccurrences(of: "host: admin.example.com, ", with: "") : yaml)
            #expect(found.isEmpty, "\(prefix)\(host): \(found.map(\.description))")
        }
    }

    @Test("two routes whose prefixes differ only in letter case are refused; case_sensitive is read")
    func caseRule() throws {
        let clash = valid + """

          - { name: upper, path: /Admin, upstream: "http://127.0.0.1:8080", require: authenticated }
          - { name: lower, path: /admin, upstream: "http://127.0.0.1:8080", require: authenticated, case_sensitive: true }
        """
        #expect(problems(clash).contains { $0.path == "routes[2]" && $0.message.contains("letter case") })
        let sensitive = valid + """

          - { name: exact, path: /Exact, upstream: "http://127.0.0.1:8080", require: authenticated, case_sensitive: true }
        """
        let routes = try decode(sensitive).get().routes
        #expect(routes.first { $0.name == "exact" }?.caseSensitive == true)
        #expect(routes.first { $0.name == "app" }?.caseSensitive == false)
    }

    @Test("the reserved prefix is reserved in every letter case: /_Portcullis is refused, and cannot take /_portcullis/ away")
    func reservedPrefixByCase() throws {
        let shadow = valid + """

          - { name: shadow, path: /_Portcullis, upstream: "http://127.0.0.1:9999", require: public }
        """
        #expect(problems(shadow).contains { $0.path == "routes[1].path" && $0.message.contains("reserved") })
        let table = RouteTable(routes: [
            Route(name: "shadow", prefix: ["_PORTCULLIS"], target: .upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 9)), requirement: .public),
        ])
        let path = try RequestTarget(parsing: "/_portcullis/jwks.json").path
        guard case .route(let route) = table.match(host: nil, path: path, method: "GET") else {
            Issue.record("no route")
            return
        }
        #expect(route.name == "portcullis")
    }
}
