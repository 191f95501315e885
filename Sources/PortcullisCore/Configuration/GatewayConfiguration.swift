/// The whole configuration file, typed (SPEC §10). Built once at the edge by
/// ``GatewayConfiguration/decode(_:file:environment:)`` and then never changed; a reload builds
/// a new one.
public struct GatewayConfiguration: Sendable {
    /// The file it came from, for messages.
    public var file: String
    public var server: ServerConfiguration
    public var identity: IdentityConfiguration
    public var sessions: SessionConfiguration
    public var store: StoreConfiguration
    /// `store.request_deadline`: how long a request waits on the store (a session, API token
    /// or bearer user lookup, a forward-auth decision, the admin API's and SCIM's reads) before
    /// it is refused (`session_unverifiable`, 503 for API clients). Read at start-up.
    public var storeRequestDeadline: Duration
    public var geoIP: GeoIPConfiguration
    public var network: NetworkConfiguration
    public var forwardAuth: ForwardAuthConfiguration
    public var admin: AdminConfiguration
    public var routes: [Route]

    public init(
        file: String,
        server: ServerConfiguration,
        identity: IdentityConfiguration,
        sessions: SessionConfiguration,
        store: StoreConfiguration,
        storeRequestDeadline: Duration = StoreConfiguration.defaultRequestDeadline,
        geoIP: GeoIPConfiguration,
        network: NetworkConfiguration,
        forwardAuth: ForwardAuthConfiguration = ForwardAuthConfiguration(),
        admin: AdminConfiguration = AdminConfiguration(),
        routes: [Route]
    ) {
        self.file = file
        self.server = server
        self.identity = identity
        self.sessions = sessions
        self.store = store
        self.storeRequestDeadline = storeRequestDeadline
        self.geoIP = geoIP
        self.network = network
        self.forwardAuth = forwardAuth
        self.admin = admin
        self.routes = routes
    }

    /// The access policy this configuration describes, with the given GeoIP resolver and any
    /// extra (store-managed) greenlists. Config-declared lists win on a name clash, and the
    /// configuration's tenant greenlist wins over one chosen in the store. A stored tenant
    /// greenlist that names no list is ignored (the store refuses to set one).
    public func accessPolicy(
        geoIP resolver: any GeoIPResolver,
        extraGreenlists: [String: Greenlist] = [:],
        storedTenantGreenlist: String? = nil
    ) -> AccessPolicy {
        let greenlists = extraGreenlists.merging(network.greenlists) { _, configured in configured }
        return AccessPolicy(
            routes: RouteTable(routes: routes),
            greenlists: greenlists,
            tenantGreenlist: network.tenantGreenlist ?? storedTenantGreenlist.flatMap { greenlists[$0] == nil ? nil : $0 },
            geoIP: resolver,
            identityProviderNetworks: IdentityProviderNetworks(
                scim: identity.scim?.allowedNetworks, backchannelLogout: identity.oidc?.backchannelAllowedNetworks
            )
        )
    }
}

/// `host:port` to listen on.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:8443`, `[::]:8443`, `localhost:8443`, `0.0.0.0:443`. Port 0 asks the system
    /// for a free port.
    public init?(parsing text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { return nil }
            portPart = rest.dropFirst()
            guard (try? IPAddress(parsing: hostPart)) != nil else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":"), HostName(hostPart) != nil else { return nil }
        }
        guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isASCIIDigit),
              let port = Int(portPart), port <= 65_535 else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Where a secret comes from: a file or an environment variable, never the YAML itself.
public enum SecretSource: Hashable, Sendable, CustomStringConvertible {
    case file(String)
    case environment(String)

    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .environment(let name): "environment variable \(name)"
        }
    }
}
