/// `server:` — listeners, TLS, trusted proxies and limits.
public struct ServerConfiguration: Sendable {
    public var listen: ListenAddress
    /// The origin users see, such as `https://localhost:8443`.
    public var publicURL: PublicURL
    public var tls: TLSSettings
    /// `/healthz`, `/readyz` and `/metrics` are served here, never on `listen`.
    public var internalListen: ListenAddress
    /// Peers whose `X-Forwarded-For` is believed.
    public var trustedProxies: [IPRange]
    /// Accept a PROXY protocol v2 header from trusted proxies.
    public var proxyProtocol: Bool
    public var limits: ServerLimits
    /// How long SIGTERM waits for in-flight requests.
    public var shutdownGrace: Duration

    public init(
        listen: ListenAddress,
        publicURL: PublicURL,
        tls: TLSSettings,
        internalListen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 9090),
        trustedProxies: [IPRange] = [],
        proxyProtocol: Bool = false,
        limits: ServerLimits = .defaults,
        shutdownGrace: Duration = .seconds(30)
    ) {
        self.listen = listen
        self.publicURL = publicURL
        self.tls = tls
        self.internalListen = internalListen
        self.trustedProxies = trustedProxies
        self.proxyProtocol = proxyProtocol
        self.limits = limits
        self.shutdownGrace = shutdownGrace
    }
}

/// An `https://host[:port]` origin.
public struct PublicURL: Hashable, Sendable, CustomStringConvertible {
    public let host: HostName
    public let port: Int

    public init(host: HostName, port: Int) {
        self.host = host
        self.port = port
    }

    /// Only `https://` with no path, query or user information.
    public init?(parsing text: String) {
        guard let upstream = Upstream(parsing: text), upstream.scheme == .https else { return nil }
        let bracketed = upstream.host.contains(":") ? "[\(upstream.host)]" : upstream.host
        guard let host = HostName(bracketed) else { return nil }
        self.init(host: host, port: upstream.port)
    }

    /// `https://localhost:8443`.
    public var origin: String {
        port == 443 ? "https://\(host)" : "https://\(host):\(port)"
    }

    public var description: String { origin }

    /// `public_url + /_portcullis/callback`.
    public var callbackURL: String { origin + "/_portcullis/callback" }
}

/// `server.tls:` — certificates and protocol versions.
public struct TLSSettings: Sendable {
    public enum MinimumVersion: String, Hashable, Sendable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// The first is the default; others are chosen by SNI from their SANs.
    public var certificates: [CertificateFiles]
    public var minimumVersion: MinimumVersion
    /// `Strict-Transport-Security` max-age; zero turns the header off.
    public var hstsMaxAge: Duration

    public init(certificates: [CertificateFiles], minimumVersion: MinimumVersion = .tls12, hstsMaxAge: Duration = .seconds(31_536_000)) {
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.hstsMaxAge = hstsMaxAge
    }
}

/// A certificate chain and its private key, as PEM files.
public struct CertificateFiles: Hashable, Sendable {
    public var certificateFile: String
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// `server.limits:` — everything that comes from outside is bounded.
public struct ServerLimits: Hashable, Sendable {
    /// Request line plus headers.
    public var maxHeaderBytes: Int
    /// Time allowed to send the complete request head (slowloris).
    public var headerTimeout: Duration
    /// A connection with no request in flight is closed after this.
    public var idleTimeout: Duration
    /// Bodies of Portcullis's own endpoints (login, admin API, SCIM).
    public var maxBodyBytes: Int
    /// Tokens in `Authorization` and cookies.
    public var maxTokenBytes: Int
    /// Open client connections, across all event loops.
    public var maxConnections: Int
    /// The longest gap between two reads of a request body (nginx's `client_body_timeout`).
    public var bodyTimeout: Duration
    /// How long a client may leave a response unread before it is closed (nginx's `send_timeout`).
    public var sendTimeout: Duration
    /// An HTTP/2 stream with no bytes either way for this long is reset (Envoy's
    /// `stream_idle_timeout`).
    public var streamIdleTimeout: Duration

    public init(
        maxHeaderBytes: Int = 32 * 1_024,
        headerTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(75),
        maxBodyBytes: Int = 1_048_576,
        maxTokenBytes: Int = 16 * 1_024,
        maxConnections: Int = 10_000,
        bodyTimeout: Duration = .seconds(60),
        sendTimeout: Duration = .seconds(60),
        streamIdleTimeout: Duration = .seconds(300)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxBodyBytes = maxBodyBytes
        self.maxTokenBytes = maxTokenBytes
        self.maxConnections = maxConnections
        self.bodyTimeout = bodyTimeout
        self.sendTimeout = sendTimeout
        self.streamIdleTimeout = streamIdleTimeout
    }

    public static let defaults = ServerLimits()
}
