/// `routes`: host, path prefix, methods, upstream and what each route requires.
extension ConfigurationReader {
    func readRoutes(_ value: ConfigValue, declaredGreenlists: Set<String>) -> [Route]? {
        guard case .sequence(let nodes, _) = value.node else {
            value.expected("a list of routes")
            return nil
        }
        var routes: [Route] = []
        var names: [String: Int] = [:]
        var matches: [String: Int] = [:]
        var indices: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            let item = ConfigValue(node: node, path: "\(value.path)[\(index)]", problems: problems)
            guard let route = readRoute(item, declaredGreenlists: declaredGreenlists) else { continue }
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
            indices[route.name] = index
        }
        // A prefix a lenient server reads as another route's (`/administration.`, `/ADMINI~1`
        // beside `/administration`) could never be matched as written: every request to it is
        // refused as a look-alike of the other.
        for (route, imitated) in RouteTable.imitations(among: routes) {
            guard let index = indices[route.name], let other = indices[imitated.name] else { continue }
            ConfigValue(node: nodes[index], path: "\(value.path)[\(index)]", problems: problems).problem(
                "path \(route.prefixDescription) imitates the path \(imitated.prefixDescription) of \(value.path)[\(other)] (a server that folds case, width or accents, cuts NTFS streams, trims trailing dots and spaces or answers 8.3 short names serves it as that path), so every request to it would be refused look_alike_path"
            )
        }
        return routes
    }

    static let routeKeys = [
        "name", "host", "path", "methods", "upstream", "require", "allow_bearer", "mfa", "max_auth_age", "greenlist", "countries",
        "connect_timeout", "response_timeout", "upstream_ca_file", "case_sensitive",
    ]

    func readRoute(_ value: ConfigValue, declaredGreenlists: Set<String>) -> Route? {
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
        let maxAuthAge = map["max_auth_age"].map { $0.duration(within: .seconds(60) ... .seconds(30 * 86_400)) }
        let greenlist = map["greenlist"].map { value -> String? in
            guard let text = value.string("a greenlist name") else { return nil }
            guard declaredGreenlists.contains(text) else {
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
        if requirement == .public, maxAuthAge != nil {
            map["max_auth_age"]?.problem("max_auth_age needs a route that requires sign-in, not public")
            return nil
        }
        if case .some(.none) = maxAuthAge { return nil }
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
            requirement: requirement, allowBearer: allowBearer, mfaRequired: mfa, maxAuthAge: maxAuthAge ?? nil, greenlist: greenlist ?? nil,
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
        // A segment a lenient server reads as a separator or a dot segment (`東京／大阪`, `．．`)
        // could never be matched as written: every request to it is read as another path.
        if let walking = target.path.segments.first(where: { NormalizedPath.lenientParts($0) != nil }) {
            value.expected("\(what) (the segment \(walking) holds a character that servers fold into / or \\, or is a dot segment once folded)")
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
}
