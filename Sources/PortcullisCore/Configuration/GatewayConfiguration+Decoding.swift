extension GatewayConfiguration {
    /// The top-level keys.
    static let topLevelKeys = ["server", "identity", "sessions", "store", "geoip", "network", "forward_auth", "routes"]

    /// Reads and validates a configuration tree, collecting every problem with its key path.
    ///
    /// - Parameters:
    ///   - root: the parsed document.
    ///   - file: the file's path as the operator wrote it; relative paths inside are resolved
    ///     against its folder.
    ///   - environment: file and environment-variable checks.
    public static func decode(
        _ root: ConfigNode,
        file: String,
        environment: ConfigEnvironment
    ) -> Result<GatewayConfiguration, ConfigurationError> {
        let problems = ConfigProblemCollector(file: file)
        let reader = ConfigurationReader(
            problems: problems,
            directory: ConfigPaths.directory(of: file),
            environment: environment
        )
        let document = ConfigValue(node: root, path: "", problems: problems)
        let configuration = reader.read(document, file: file)
        if let configuration, problems.problems.isEmpty {
            return .success(configuration)
        }
        return .failure(ConfigurationError(problems: problems.problems))
    }
}

/// Reads one document. Each section reader reports its own problems and answers `nil` when
/// the section cannot be used; the whole read fails if any problem was reported.
struct ConfigurationReader {
    let problems: ConfigProblemCollector
    let directory: String
    let environment: ConfigEnvironment

    func read(_ document: ConfigValue, file: String) -> GatewayConfiguration? {
        guard let top = document.mapping(keys: GatewayConfiguration.topLevelKeys) else { return nil }
        let network = top["network"].map(readNetwork) ?? NetworkConfiguration()
        let server = top.required("server", "listen, public_url and tls").flatMap(readServer)
        let identity = top["identity"].map(readIdentity) ?? IdentityConfiguration()
        let sessions = top["sessions"].map(readSessions) ?? SessionConfiguration()
        let storeSection = top["store"].map(readStore)
            ?? (.sqlite(path: resolvePath("../var/portcullis.sqlite")), StoreConfiguration.defaultRequestDeadline)
        let geoIP = top["geoip"].map(readGeoIP) ?? GeoIPConfiguration()
        let forwardAuth = top["forward_auth"].map(readForwardAuth) ?? ForwardAuthConfiguration()
        let routes = top.required("routes", "a list of routes").flatMap { readRoutes($0, network: network) } ?? []

        if let identity, routes.contains(where: { $0.requirement != .public }), identity.oidc == nil {
            top.problem("routes need sign-in but identity.oidc is not configured")
        }
        if let identity, routes.contains(where: \.allowBearer), identity.bearer == nil {
            top.problem("routes allow bearer tokens but identity.bearer (audiences) is not configured")
        }
        guard let server, let identity, let sessions, let storeSection, let geoIP, let network, let forwardAuth else { return nil }
        let (store, storeRequestDeadline) = storeSection
        return GatewayConfiguration(
            file: file, server: server, identity: identity, sessions: sessions,
            store: store, storeRequestDeadline: storeRequestDeadline, geoIP: geoIP, network: network, forwardAuth: forwardAuth, routes: routes
        )
    }

    // MARK: server

    func readServer(_ value: ConfigValue) -> ServerConfiguration? {
        guard let map = value.mapping(keys: [
            "listen", "public_url", "tls", "internal_listen", "trusted_proxies", "proxy_protocol", "limits",
            "shutdown_grace",
        ]) else { return nil }
        let listen = map.required("listen", "host:port").flatMap(readListen)
        let publicURL = map.required("public_url", "the https origin users see").flatMap { value -> PublicURL? in
            guard let text = value.string(), let url = PublicURL(parsing: text) else {
                value.expected("an https:// origin with no path, such as \"https://localhost:8443\"")
                return nil
            }
            return url
        }
        let tls = map.required("tls", "certificates").flatMap(readTLS)
        let internalListen = map["internal_listen"].map(readListen) ?? ListenAddress(host: "127.0.0.1", port: 9090)
        let trusted = map["trusted_proxies"].map { $0.list(readRange) } ?? []
        let proxyProtocol = map["proxy_protocol"].map { $0.bool() } ?? false
        let limits = map["limits"].map(readLimits) ?? .defaults
        let grace = map["shutdown_grace"].map { $0.duration(within: .zero ... .seconds(3_600)) } ?? .seconds(30)
        if let listen, let internalListen, listen == internalListen, listen.port != 0 {
            map.problem("internal_listen must differ from listen")
        }
        guard let listen, let publicURL, let tls, let internalListen, let trusted, let proxyProtocol,
              let limits, let grace else { return nil }
        return ServerConfiguration(
            listen: listen, publicURL: publicURL, tls: tls, internalListen: internalListen,
            trustedProxies: trusted, proxyProtocol: proxyProtocol, limits: limits, shutdownGrace: grace
        )
    }

    func readListen(_ value: ConfigValue) -> ListenAddress? {
        guard let text = value.string(), let address = ListenAddress(parsing: text) else {
            value.expected("host:port such as \"127.0.0.1:8443\" or \"[::]:8443\"")
            return nil
        }
        return address
    }

    func readTLS(_ value: ConfigValue) -> TLSSettings? {
        guard let map = value.mapping(keys: ["certificates", "min_version", "hsts_max_age"]) else { return nil }
        let certificates = map.required("certificates", "a list of { cert_file, key_file }").flatMap { list in
            list.list { item -> CertificateFiles? in
                guard let pair = item.mapping(keys: ["cert_file", "key_file"]) else { return nil }
                let cert = pair.required("cert_file", "a PEM certificate chain").flatMap { requiredFile($0) }
                let key = pair.required("key_file", "a PEM private key").flatMap { requiredFile($0) }
                guard let cert, let key else { return nil }
                return CertificateFiles(certificateFile: cert, keyFile: key)
            }
        }
        if let certificates, certificates.isEmpty, let list = map["certificates"], case .sequence(let items, _) = list.node,
           items.isEmpty {
            list.expected("at least one certificate")
        }
        let minimum = map["min_version"].map { value -> TLSSettings.MinimumVersion? in
            guard let text = value.string(), let version = TLSSettings.MinimumVersion(rawValue: text) else {
                value.expected("\"1.2\" or \"1.3\" (older versions are never offered)")
                return nil
            }
            return version
        } ?? .tls12
        let hsts = map["hsts_max_age"].map { $0.duration(within: .zero ... .seconds(2 * 31_536_000)) } ?? .seconds(31_536_000)
        guard let certificates, !certificates.isEmpty, let minimum, let hsts else { return nil }
        return TLSSettings(certificates: certificates, minimumVersion: minimum, hstsMaxAge: hsts)
    }

    func readLimits(_ value: ConfigValue) -> ServerLimits? {
        guard let map = value.mapping(keys: [
            "max_header_bytes", "header_timeout", "idle_timeout", "max_body_bytes", "max_token_bytes", "max_connections",
            "body_timeout", "send_timeout", "stream_idle_timeout",
        ]) else { return nil }
        let defaults = ServerLimits.defaults
        let header = map["max_header_bytes"].map { $0.byteCount(in: 1_024 ... 1_048_576) } ?? defaults.maxHeaderBytes
        let headerTimeout = map["header_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(300)) }
            ?? defaults.headerTimeout
        let idle = map["idle_timeout"].map { $0.duration(within: .seconds(1) ... .seconds(3_600)) } ?? defaults.idleTimeout
        let body = map["max_body_bytes"].map { $0.byteCount(in: 1_024 ... 1_073_741_824) } ?? defaults.maxBodyBytes
        let token = map["max_token_bytes"].map { $0.byteCount(in: 1_024 ... 262_144) } ?? defaults.maxTokenBytes
        let connections = map["max_connections"].map { $0.integer(in: 1 ... 1_000_000) } ?? defaults.maxConnections
        let bodyTimeout = map["body_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(3_600)) }
            ?? defaults.bodyTimeout
        let sendTimeout = map["send_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(3_600)) }
            ?? defaults.sendTimeout
        let streamIdle = map["stream_idle_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(86_400)) }
            ?? defaults.streamIdleTimeout
        guard let header, let headerTimeout, let idle, let body, let token, let connections, let bodyTimeout, let sendTimeout,
              let streamIdle
        else { return nil }
        return ServerLimits(
            maxHeaderBytes: header, headerTimeout: headerTimeout, idleTimeout: idle,
            maxBodyBytes: body, maxTokenBytes: token, maxConnections: connections,
            bodyTimeout: bodyTimeout, sendTimeout: sendTimeout, streamIdleTimeout: streamIdle
        )
    }

    // MARK: identity

    func readIdentity(_ value: ConfigValue) -> IdentityConfiguration? {
        guard let map = value.mapping(keys: ["oidc", "bearer", "scim", "groups"]) else { return nil }
        let oidc = map["oidc"].map(readOIDC)
        let bearer = map["bearer"].map(readBearer)
        let scim = map["scim"].map(readSCIM)
        let groups = map["groups"].map(readGroups)
        if case .some(.none) = oidc { return nil }
        if case .some(.none) = bearer { return nil }
        if case .some(.none) = scim { return nil }
        if case .some(.none) = groups { return nil }
        if bearer != nil, oidc == nil {
            map.problem("bearer needs identity.oidc: bearer JWTs are checked against the same issuer")
        }
        return IdentityConfiguration(oidc: oidc ?? nil, bearer: bearer ?? nil, scim: scim ?? nil, groupSource: (groups ?? nil) ?? .both)
    }

    /// `identity.groups: {source: claims | scim | both}`.
    func readGroups(_ value: ConfigValue) -> GroupSourcePolicy? {
        guard let map = value.mapping(keys: ["source"]) else { return nil }
        guard let entry = map["source"] else { return .both }
        guard let text = entry.string(), let policy = GroupSourcePolicy(rawValue: text) else {
            entry.expected("claims, scim or both")
            return nil
        }
        return policy
    }

    func readOIDC(_ value: ConfigValue) -> OIDCConfiguration? {
        guard let map = value.mapping(keys: [
            "issuer", "client_id", "client_secret_file", "client_secret_env", "ca_file", "scopes", "claims",
            "clock_skew", "mfa_amr_values", "mfa_acr_values", "userinfo", "trust_email", "refresh_interval",
            "refresh_token_key_file", "refresh_token_key_env",
        ]) else { return nil }
        let issuer = map.required("issuer", "the IdP's issuer URL").flatMap(readIssuer)
        let clientID = map.required("client_id", "the client ID registered at the IdP").flatMap { $0.nonEmptyString() }
        let secret = readSecret(map, fileKey: "client_secret_file", envKey: "client_secret_env", what: "the client secret")
        let caFile = map["ca_file"].map { requiredFile($0) }
        let scopes = map["scopes"].map { list in
            list.list { item -> String? in
                guard let text = item.string(), !text.isEmpty, !text.contains(" ") else {
                    item.expected("a scope name")
                    return nil
                }
                return text
            }
        } ?? ["openid", "email", "profile"]
        if let scopes, !scopes.contains("openid") {
            map["scopes"]?.problem("scopes must include openid")
        }
        let claims = map["claims"].map(readClaims) ?? ClaimNames()
        let skew = map["clock_skew"].map { $0.duration(within: .zero ... .seconds(300)) } ?? .seconds(60)
        let amr = map["mfa_amr_values"].map { $0.list { $0.nonEmptyString() }.map(Set.init) }
            ?? ["mfa", "otp", "hwk", "swk", "fpt", "face", "sc"]
        let acr = map["mfa_acr_values"].map { $0.list { $0.nonEmptyString() }.map(Set.init) } ?? []
        let userInfo = map["userinfo"].map { entry -> UserInfoMode? in
            guard let text = entry.string(), let mode = UserInfoMode(rawValue: text) else {
                entry.expected("auto, always or never")
                return nil
            }
            return mode
        } ?? .auto
        let trustEmail = map["trust_email"].map { $0.bool() } ?? false
        let refreshInterval = map["refresh_interval"].map { $0.duration(within: .seconds(1) ... .seconds(7 * 86_400)) } ?? .seconds(3_600)
        var refreshTokenKey: SecretSource??
        if map["refresh_token_key_file"] != nil || map["refresh_token_key_env"] != nil {
            refreshTokenKey = readSecret(map, fileKey: "refresh_token_key_file", envKey: "refresh_token_key_env", what: "the refresh token key")
        }
        guard let issuer, let clientID, let secret, let scopes, let claims, let skew, let amr, let acr, let userInfo, let trustEmail,
              let refreshInterval else { return nil }
        if case .some(.none) = caFile { return nil }
        if case .some(.none) = refreshTokenKey { return nil }
        return OIDCConfiguration(
            issuer: issuer, clientID: clientID, clientSecret: secret, caFile: caFile ?? nil, scopes: scopes,
            claims: claims, clockSkew: skew, mfaMethods: amr, mfaACRValues: acr, userInfo: userInfo, trustEmail: trustEmail,
            refreshInterval: refreshInterval, refreshTokenKey: refreshTokenKey ?? nil
        )
    }

    /// `https://…`, or `http://` on a loopback address for local development and tests.
    func readIssuer(_ value: ConfigValue) -> String? {
        guard let text = value.string(), !text.contains("?"), !text.contains("#"),
              let upstream = Upstream(parsing: Self.originPart(of: text))
        else {
            value.expected("an https:// issuer URL such as \"https://idp.example.com\"")
            return nil
        }
        let isLoopback = upstream.host == "localhost" || (try? IPAddress(parsing: upstream.host)).map {
            $0 == IPAddress(ipv4: 127, 0, 0, 1) || $0 == IPAddress(ipv6: 1)
        } == true
        guard upstream.scheme == .https || isLoopback else {
            value.expected("an https:// issuer URL (plain http is only for loopback development)")
            return nil
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    static func originPart(of url: String) -> String {
        for scheme in ["https://", "http://"] where url.hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(of: "/") else { return url }
            return String(url[..<slash])
        }
        return url
    }

    func readClaims(_ value: ConfigValue) -> ClaimNames? {
        guard let map = value.mapping(keys: ["groups", "department", "name", "email"]) else { return nil }
        var claims = ClaimNames()
        var ok = true
        for (key, path) in [("groups", \ClaimNames.groups), ("department", \.department), ("name", \.name), ("email", \.email)] {
            if let entry = map[key] {
                if let text = entry.nonEmptyString("a claim name") { claims[keyPath: path] = text } else { ok = false }
            }
        }
        return ok ? claims : nil
    }

    func readBearer(_ value: ConfigValue) -> BearerConfiguration? {
        guard let map = value.mapping(keys: ["audiences"]) else { return nil }
        guard let audiences = map.required("audiences", "a list of accepted aud values").flatMap({ $0.list { $0.nonEmptyString() } })
        else { return nil }
        guard !audiences.isEmpty else {
            map["audiences"]?.expected("at least one audience")
            return nil
        }
        return BearerConfiguration(audiences: audiences)
    }

    func readSCIM(_ value: ConfigValue) -> SCIMConfiguration? {
        guard let map = value.mapping(keys: ["token_file", "token_env"]) else { return nil }
        guard let token = readSecret(map, fileKey: "token_file", envKey: "token_env", what: "the SCIM bearer token") else {
            return nil
        }
        return SCIMConfiguration(token: token)
    }

    /// Exactly one of `fileKey` and `envKey`.
    func readSecret(_ map: ConfigMapping, fileKey: String, envKey: String, what: String) -> SecretSource? {
        switch (map[fileKey], map[envKey]) {
        case (nil, nil):
            map.problem("missing key \(fileKey) or \(envKey) (\(what))")
            return nil
        case (.some, .some):
            map.problem("give \(fileKey) or \(envKey), not both")
            return nil
        case (let file?, nil):
            return requiredFile(file).map(SecretSource.file)
        case (nil, let env?):
            guard let name = env.string(), Self.isEnvironmentName(name) else {
                env.expected("an environment variable name such as PORTCULLIS_SECRET")
                return nil
            }
            if let lookup = environment.variable, (lookup(name) ?? "").isEmpty {
                env.problem("environment variable \(name) is not set or empty (\(what))")
                return nil
            }
            return .environment(name)
        }
    }

    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    // MARK: sessions, store, geoip

    func readSessions(_ value: ConfigValue) -> SessionConfiguration? {
        guard let map = value.mapping(keys: ["idle_timeout", "absolute_timeout", "max_staleness", "risk"]) else { return nil }
        let defaults = SessionConfiguration()
        let idle = map["idle_timeout"].map { $0.duration(within: .seconds(60) ... .seconds(30 * 86_400)) } ?? defaults.idleTimeout
        let absolute = map["absolute_timeout"].map { $0.duration(within: .seconds(60) ... .seconds(90 * 86_400)) }
            ?? defaults.absoluteTimeout
        let staleness = map["max_staleness"].map { $0.duration(within: .zero ... SessionConfiguration.stalenessCeiling) }
            ?? defaults.maxStaleness
        let risk = map["risk"].map(readSessionRisk) ?? defaults.risk
        guard let idle, let absolute, let staleness, let risk else { return nil }
        if idle > absolute {
            map["idle_timeout"]?.problem("idle_timeout (\(DurationText.format(idle))) must not exceed absolute_timeout (\(DurationText.format(absolute)))")
            return nil
        }
        return SessionConfiguration(idleTimeout: idle, absoluteTimeout: absolute, maxStaleness: staleness, risk: risk)
    }

    /// The store and `store.request_deadline`.
    func readStore(_ value: ConfigValue) -> (StoreConfiguration, Duration)? {
        guard let map = value.mapping(keys: ["sqlite", "postgres", "request_deadline"]) else { return nil }
        let deadline = map["request_deadline"].map { $0.duration(within: StoreConfiguration.requestDeadlineRange) }
            ?? StoreConfiguration.defaultRequestDeadline
        guard let store = readStoreKind(map), let deadline else { return nil }
        return (store, deadline)
    }

    func readStoreKind(_ map: ConfigMapping) -> StoreConfiguration? {
        switch (map["sqlite"], map["postgres"]) {
        case (nil, nil):
            map.problem("expected sqlite or postgres")
            return nil
        case (.some, .some):
            map.problem("give sqlite or postgres, not both")
            return nil
        case (let sqlite?, nil):
            guard let inner = sqlite.mapping(keys: ["path"]),
                  let path = inner.required("path", "the database file").flatMap({ $0.nonEmptyString("a file path") })
            else { return nil }
            return .sqlite(path: resolvePath(path))
        case (nil, let postgres?):
            guard let inner = postgres.mapping(keys: ["url_env", "url_file"]),
                  let url = readSecret(inner, fileKey: "url_file", envKey: "url_env", what: "the PostgreSQL URL")
            else { return nil }
            return .postgres(url: url)
        }
    }

    func readGeoIP(_ value: ConfigValue) -> GeoIPConfiguration? {
        guard let map = value.mapping(keys: ["database", "asn_database"]) else { return nil }
        // A missing database is not an error: GeoIP tags read "unknown" and start-up says so once.
        let database = map["database"].map { $0.nonEmptyString("a .mmdb file path").map(resolvePath) }
        let asn = map["asn_database"].map { $0.nonEmptyString("a .mmdb file path").map(resolvePath) }
        if case .some(.none) = database { return nil }
        if case .some(.none) = asn { return nil }
        return GeoIPConfiguration(database: database ?? nil, asnDatabase: asn ?? nil)
    }

    // MARK: forward_auth

    func readForwardAuth(_ value: ConfigValue) -> ForwardAuthConfiguration? {
        guard let map = value.mapping(keys: ["original_url_header"]) else { return nil }
        let header = map["original_url_header"].map { value -> ForwardAuthConfiguration.OriginalURLHeader? in
            let choices = ForwardAuthConfiguration.OriginalURLHeader.allCases
            guard let text = value.string(),
                  let header = choices.first(where: { $0.rawValue.lowercased() == text.lowercased() })
            else {
                value.expected(choices.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                    + " (the one header the proxy in front sets to the original request)")
                return nil
            }
            return header
        } ?? .originalURI
        guard let header else { return nil }
        return ForwardAuthConfiguration(originalURLHeader: header)
    }

    // MARK: network

    func readNetwork(_ value: ConfigValue) -> NetworkConfiguration? {
        guard let map = value.mapping(keys: ["greenlists", "tenant_greenlist"]) else { return nil }
        var greenlists: [String: Greenlist] = [:]
        var ok = true
        if let lists = map["greenlists"], let named = lists.mapping(keys: []) {
            for name in named.order {
                guard let entries = named.children[name] else { continue }
                guard Self.isName(name) else {
                    entries.problem("expected a list name of letters, digits, - and _")
                    ok = false
                    continue
                }
                guard let items = entries.list(readGreenlistEntry) else {
                    ok = false
                    continue
                }
                greenlists[name] = Greenlist(name: name, entries: items)
            }
        } else if map["greenlists"] != nil {
            ok = false
        }
        var tenant: String?
        if let entry = map["tenant_greenlist"] {
            if let name = entry.string("a greenlist name") {
                if greenlists[name] == nil {
                    entry.problem("names greenlist \"\(name)\", which is not declared under network.greenlists")
                    ok = false
                } else {
                    tenant = name
                }
            } else {
                ok = false
            }
        }
        return ok && problemsFree(under: value.path) ? NetworkConfiguration(greenlists: greenlists, tenantGreenlist: tenant) : nil
    }

    func readGreenlistEntry(_ value: ConfigValue) -> Greenlist.Entry? {
        guard let map = value.mapping(keys: ["cidr", "label"]) else { return nil }
        let range = map.required("cidr", "a CIDR range such as 198.51.100.0/24").flatMap(readRange)
        let label = map["label"].map { $0.string("a label") } ?? ""
        guard let range, let label else { return nil }
        return Greenlist.Entry(range: range, label: label)
    }

    func readRange(_ value: ConfigValue) -> IPRange? {
        guard let text = value.string("a CIDR range such as 198.51.100.0/24") else { return nil }
        do {
            return try IPRange(parsing: text)
        } catch {
            value.problem(error.description)
            return nil
        }
    }

    // MARK: routes

    func readRoutes(_ value: ConfigValue, network: NetworkConfiguration?) -> [Route]? {
        guard case .sequence(let nodes, _) = value.node else {
            value.expected("a list of routes")
            return nil
        }
        var routes: [Route] = []
        var names: [String: Int] = [:]
        var matches: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            let item = ConfigValue(node: node, path: "\(value.path)[\(index)]", problems: problems)
            guard let route = readRoute(item, network: network) else { continue }
            if let earlier = names[route.name] {
                item.problem("route name \"\(route.name)\" is already used by \(value.path)[\(earlier)]")
            } else {
                names[route.name] = index
            }
            // Prefixes match without regard to ASCII case unless a route says otherwise, so two
            // prefixes that differ only in case would compete for the same requests.
            let key = "\(route.host?.value ?? "*") \(route.prefixDescription.lowercased())"
            if let earlier = matches[key] {
                item.problem("\(value.path)[\(earlier)] already has host \(route.host?.value ?? "(any)") and path \(route.prefixDescription) (paths differing only in letter case count as the same)")
            } else {
                matches[key] = index
            }
            routes.append(route)
        }
        return routes
    }

    static let routeKeys = [
        "name", "host", "path", "methods", "upstream", "require", "allow_bearer", "mfa", "greenlist", "countries",
        "connect_timeout", "response_timeout", "upstream_ca_file", "case_sensitive",
    ]

    func readRoute(_ value: ConfigValue, network: NetworkConfiguration?) -> Route? {
        guard let map = value.mapping(keys: Self.routeKeys) else { return nil }
        let name = map.required("name", "a route name").flatMap { value -> String? in
            guard let text = value.string(), Self.isName(text) else {
                value.expected("a route name of letters, digits, - and _")
                return nil
            }
            return text
        }
        let host = map["host"].map { value -> HostName? in
            guard let text = value.string(), let host = HostName(text) else {
                value.expected("a host name such as admin.example.com")
                return nil
            }
            return host
        }
        let prefix = map.required("path", "a path prefix such as /admin").flatMap(readPathPrefix)
        let methods = map["methods"].map(readMethods)
        let upstream = map.required("upstream", "an http:// or https:// upstream").flatMap { value -> Upstream? in
            guard let text = value.string(), let upstream = Upstream(parsing: text) else {
                value.expected("an upstream such as \"http://127.0.0.1:8080\" (scheme, host and port only)")
                return nil
            }
            return upstream
        }
        let requirement = map.required("require", "public, authenticated, { permission: … } or { role: … }")
            .flatMap(readRequirement)
        let allowBearer = map["allow_bearer"].map { $0.bool() } ?? false
        let caseSensitive = map["case_sensitive"].map { $0.bool() } ?? false
        let mfa = map["mfa"].map { value -> Bool? in
            switch value.string() {
            case "required": return true
            case "optional": return false
            default:
                value.expected("required or optional")
                return nil
            }
        } ?? false
        let greenlist = map["greenlist"].map { value -> String? in
            guard let text = value.string("a greenlist name") else { return nil }
            guard network?.greenlists[text] != nil else {
                value.problem("names greenlist \"\(text)\", which is not declared under network.greenlists")
                return nil
            }
            return text
        }
        let countries = map["countries"].map(readCountries)
        let connect = map["connect_timeout"].map { $0.duration(within: .milliseconds(10) ... .seconds(120)) }
            ?? UpstreamTimeouts.defaults.connect
        let response = map["response_timeout"].map { $0.duration(within: .milliseconds(10) ... .seconds(3_600)) }
            ?? UpstreamTimeouts.defaults.response

        let caFile = map["upstream_ca_file"].map { requiredFile($0) }
        if caFile != nil, let upstream, upstream.scheme != .https {
            map["upstream_ca_file"]?.problem("upstream_ca_file needs an https:// upstream")
        }

        if let prefix, prefix.first?.lowercased() == Route.reservedSegment {
            map["path"]?.problem("/_portcullis/ is reserved for Portcullis's own endpoints")
            return nil
        }
        if requirement == .public, mfa == true {
            map["mfa"]?.problem("mfa: required needs a route that requires sign-in, not public")
            return nil
        }
        guard let name, let prefix, let upstream, let requirement, let allowBearer, let caseSensitive, let mfa, let connect,
              let response
        else { return nil }
        if case .some(.none) = host { return nil }
        if case .some(.none) = methods { return nil }
        if case .some(.none) = greenlist { return nil }
        if case .some(.none) = countries { return nil }
        if case .some(.none) = caFile { return nil }
        return Route(
            name: name, host: host ?? nil, prefix: prefix, methods: methods ?? nil, target: .upstream(upstream),
            requirement: requirement, allowBearer: allowBearer, mfaRequired: mfa, greenlist: greenlist ?? nil,
            countries: countries ?? nil, timeouts: UpstreamTimeouts(connect: connect, response: response),
            upstreamCAFile: caFile ?? nil, caseSensitive: caseSensitive
        )
    }

    func readPathPrefix(_ value: ConfigValue) -> [String]? {
        let what = "a normalised path prefix starting with /, such as /admin/teammates"
        guard let text = value.string(what) else { return nil }
        guard text.hasPrefix("/"), !text.contains("?"), !text.contains("#"),
              let target = try? RequestTarget(parsing: text)
        else {
            value.expected(what)
            return nil
        }
        let normalized = target.path.description
        let written = text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text
        guard normalized == written || normalized == written + "/" else {
            value.expected("\(what) (it normalises to \(normalized))")
            return nil
        }
        return target.path.segments
    }

    func readMethods(_ value: ConfigValue) -> Set<String>? {
        guard let methods = value.list({ item -> String? in
            guard let text = item.string(), !text.isEmpty, text.count <= 20,
                  text.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                item.expected("an upper-case method name such as GET")
                return nil
            }
            return text
        }) else { return nil }
        guard !methods.isEmpty else {
            value.expected("at least one method")
            return nil
        }
        var set = Set(methods)
        if set.contains("GET") { set.insert("HEAD") }
        return set
    }

    func readRequirement(_ value: ConfigValue) -> RouteRequirement? {
        if case .scalar = value.node {
            switch value.string() {
            case "public": return .public
            case "authenticated": return .authenticated
            default:
                value.expected("public, authenticated, { permission: … } or { role: … }")
                return nil
            }
        }
        guard let map = value.mapping(keys: ["permission", "role"]) else { return nil }
        switch (map["permission"], map["role"]) {
        case (let permission?, nil):
            guard let text = permission.string(), let found = Permission(rawValue: text) else {
                let hint = permission.string().flatMap { ConfigValue.closest($0, in: Permission.allCases.map(\.rawValue)) }
                permission.expected("a permission name such as teammates.view" + (hint.map { " (did you mean \($0)?)" } ?? ""))
                return nil
            }
            return .permission(found)
        case (nil, let role?):
            guard let text = role.string(), let found = RoleName(text) else {
                role.expected("a role name: " + (PrimaryRole.allCases.map(\.rawValue) + SecondaryRole.allCases.map(\.rawValue)).joined(separator: ", "))
                return nil
            }
            return .role(found)
        default:
            map.problem("expected exactly one of permission or role")
            return nil
        }
    }

    func readCountries(_ value: ConfigValue) -> CountryRule? {
        guard let map = value.mapping(keys: ["allow", "deny"]) else { return nil }
        func codes(_ list: ConfigValue) -> Set<String>? {
            guard let items = list.list({ item -> String? in
                guard let text = item.string(), CountryRule.isCountryCode(text) else {
                    item.expected("an ISO 3166-1 alpha-2 country code such as DE")
                    return nil
                }
                return text
            }) else { return nil }
            guard !items.isEmpty else {
                list.expected("at least one country code")
                return nil
            }
            return Set(items)
        }
        switch (map["allow"], map["deny"]) {
        case (let allow?, nil): return codes(allow).map(CountryRule.allow)
        case (nil, let deny?): return codes(deny).map(CountryRule.deny)
        default:
            map.problem("expected exactly one of allow or deny")
            return nil
        }
    }

    // MARK: helpers

    func resolvePath(_ path: String) -> String {
        ConfigPaths.resolve(path, relativeTo: directory)
    }

    /// A path that must name an existing file.
    func requiredFile(_ value: ConfigValue) -> String? {
        guard let text = value.nonEmptyString("a file path") else { return nil }
        let resolved = resolvePath(text)
        if let exists = environment.fileExists, !exists(resolved) {
            value.problem("file \(resolved) does not exist or cannot be read")
            return nil
        }
        return resolved
    }

    func problemsFree(under path: String) -> Bool {
        !problems.problems.contains { $0.path == path || $0.path.hasPrefix(path + ".") || $0.path.hasPrefix(path + "[") }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
