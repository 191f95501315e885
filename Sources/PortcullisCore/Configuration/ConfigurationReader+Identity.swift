/// `identity`: OIDC, bearer tokens, SCIM and group sources, and the secrets they name.
extension ConfigurationReader {
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
            "refresh_token_key_file", "refresh_token_key_env", "backchannel_allowed_networks",
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
        let backchannelNetworks = map["backchannel_allowed_networks"].map(readAllowedNetworks)
        guard let issuer, let clientID, let secret, let scopes, let claims, let skew, let amr, let acr, let userInfo, let trustEmail,
              let refreshInterval else { return nil }
        if case .some(.none) = caFile { return nil }
        if case .some(.none) = backchannelNetworks { return nil }
        if case .some(.none) = refreshTokenKey { return nil }
        return OIDCConfiguration(
            issuer: issuer, clientID: clientID, clientSecret: secret, caFile: caFile ?? nil, scopes: scopes,
            claims: claims, clockSkew: skew, mfaMethods: amr, mfaACRValues: acr, userInfo: userInfo, trustEmail: trustEmail,
            refreshInterval: refreshInterval, refreshTokenKey: refreshTokenKey ?? nil, backchannelAllowedNetworks: backchannelNetworks ?? nil
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
        guard let map = value.mapping(keys: ["token_file", "token_env", "allowed_networks"]) else { return nil }
        let networks = map["allowed_networks"].map(readAllowedNetworks)
        guard let token = readSecret(map, fileKey: "token_file", envKey: "token_env", what: "the SCIM bearer token") else {
            return nil
        }
        if case .some(.none) = networks { return nil }
        return SCIMConfiguration(token: token, allowedNetworks: networks ?? nil)
    }

    /// A non-empty list of CIDR ranges where an identity provider's calls come from.
    func readAllowedNetworks(_ value: ConfigValue) -> [IPRange]? {
        guard let ranges = value.list(readRange) else { return nil }
        guard !ranges.isEmpty else {
            value.expected("at least one CIDR range (leave the key out to allow any address)")
            return nil
        }
        return ranges
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
            return secretFile(file).map(SecretSource.file)
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
}
