/// `sessions:` — lifetimes and how stale a cached session may be.
public struct SessionConfiguration: Hashable, Sendable {
    public var idleTimeout: Duration
    public var absoluteTimeout: Duration
    /// How long a cached session is trusted without the store (never above 5 minutes).
    public var maxStaleness: Duration
    /// Suspicious sessions: the signals, their actions and the webhook.
    public var risk: SessionRiskConfiguration

    public static let stalenessCeiling: Duration = .seconds(300)

    public init(
        idleTimeout: Duration = .seconds(8 * 3_600), absoluteTimeout: Duration = .seconds(24 * 3_600), maxStaleness: Duration = .seconds(5),
        risk: SessionRiskConfiguration = SessionRiskConfiguration()
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.maxStaleness = maxStaleness
        self.risk = risk
    }
}

/// `store:` — one of the two implementations.
public enum StoreConfiguration: Sendable {
    /// Embedded, one node, WAL.
    case sqlite(path: String)
    /// Shared by several gateway instances; the URL is a secret. `maxConnections`
    /// (`store.postgres.max_connections`): the query pool's size; each instance also holds one
    /// connection of its own for LISTEN, to `listenURL` when given (`listen_url_file`/`_env`:
    /// the server itself, when queries go through PgBouncer in transaction mode), else to `url`.
    case postgres(url: SecretSource, maxConnections: Int = StoreConfiguration.defaultPostgresConnections, listenURL: SecretSource? = nil)

    /// `store.postgres.max_connections`'s default: ten instances (nine connections each) fit
    /// in PostgreSQL's default `max_connections` of 100 with room for its superuser slots and
    /// an operator's session.
    public static let defaultPostgresConnections = 8
    /// What `store.postgres.max_connections` may be.
    public static let postgresConnectionsRange: ClosedRange<Int> = 1 ... 256

    /// `store.request_deadline`'s default.
    public static let defaultRequestDeadline: Duration = .seconds(1)
    /// What `store.request_deadline` may be.
    public static let requestDeadlineRange: ClosedRange<Duration> = .milliseconds(50) ... .seconds(30)

    /// Connections that serve queries at once: the PostgreSQL pool's size; for SQLite, the 16
    /// the lookup bounds were first sized for (GRDB's readers do not queue behind a pool).
    public var poolSize: Int {
        switch self {
        case .sqlite: 16
        case .postgres(_, let maxConnections, _): maxConnections
        }
    }

    /// `sqlite` or `postgres`, for logs.
    public var kind: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }
}

/// `geoip:`.
public struct GeoIPConfiguration: Hashable, Sendable {
    /// A MaxMind-format City database; `nil` or a missing file means every address is unknown.
    public var database: String?
    /// An optional ASN database (GeoLite2-ASN format).
    public var asnDatabase: String?

    public init(database: String? = nil, asnDatabase: String? = nil) {
        self.database = database
        self.asnDatabase = asnDatabase
    }
}

/// `network:` — config-declared greenlists and the tenant-wide list.
public struct NetworkConfiguration: Sendable {
    public var greenlists: [String: Greenlist]
    public var tenantGreenlist: String?

    public init(greenlists: [String: Greenlist] = [:], tenantGreenlist: String? = nil) {
        self.greenlists = greenlists
        self.tenantGreenlist = tenantGreenlist
    }
}
