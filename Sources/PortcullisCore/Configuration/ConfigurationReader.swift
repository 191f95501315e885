/// Reads one document. Each section reader reports its own problems and answers `nil` when
/// the section cannot be used; the whole read fails if any problem was reported.
struct ConfigurationReader {
    let problems: ConfigProblemCollector
    let directory: String
    let environment: ConfigEnvironment

    func read(_ document: ConfigValue, file: String) -> GatewayConfiguration? {
        guard let top = document.mapping(keys: GatewayConfiguration.topLevelKeys) else { return nil }
        let network = top["network"].map(readNetwork) ?? NetworkConfiguration()
        // A greenlist with a bad entry is still declared: a route naming it gets the entry's
        // problem, not a second one saying the list does not exist.
        let declaredGreenlists = top["network"].map(Self.declaredGreenlists) ?? []
        let server = top.required("server", "listen, public_url and tls").flatMap(readServer)
        let identity = top["identity"].map(readIdentity) ?? IdentityConfiguration()
        let sessions = top["sessions"].map(readSessions) ?? SessionConfiguration()
        let storeSection = top["store"].map(readStore)
            ?? (.sqlite(path: resolvePath("../var/portcullis.sqlite")), StoreConfiguration.defaultRequestDeadline)
        let geoIP = top["geoip"].map(readGeoIP) ?? GeoIPConfiguration()
        let forwardAuth = top["forward_auth"].map(readForwardAuth) ?? ForwardAuthConfiguration()
        let admin = top["admin"].map(readAdmin) ?? AdminConfiguration()
        let routes = top.required("routes", "a list of routes").flatMap { readRoutes($0, declaredGreenlists: declaredGreenlists) } ?? []

        if let identity, routes.contains(where: { $0.requirement != .public }), identity.oidc == nil {
            top.problem("routes need sign-in but identity.oidc is not configured")
        }
        if let identity, routes.contains(where: \.allowBearer), identity.bearer == nil {
            top.problem("routes allow bearer tokens but identity.bearer (audiences) is not configured")
        }
        guard let server, let identity, let sessions, let storeSection, let geoIP, let network, let forwardAuth, let admin else { return nil }
        let (store, storeRequestDeadline) = storeSection
        return GatewayConfiguration(
            file: file, server: server, identity: identity, sessions: sessions,
            store: store, storeRequestDeadline: storeRequestDeadline, geoIP: geoIP, network: network, forwardAuth: forwardAuth, admin: admin, routes: routes
        )
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

    /// ``requiredFile(_:)`` for a file that holds a secret: its mode must follow
    /// ``SecretFileMode``.
    func secretFile(_ value: ConfigValue) -> String? {
        guard let path = requiredFile(value) else { return nil }
        if let mode = environment.fileMode?(path), let problem = SecretFileMode.problem(mode, file: path) {
            value.problem(problem)
            return nil
        }
        return path
    }

    func problemsFree(under path: String) -> Bool {
        !problems.problems.contains { $0.path == path || $0.path.hasPrefix(path + ".") || $0.path.hasPrefix(path + "[") }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
