/// `store`: SQLite or PostgreSQL, and `store.request_deadline`.
extension ConfigurationReader {
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
            guard let inner = postgres.mapping(keys: ["url_env", "url_file", "max_connections", "listen_url_env", "listen_url_file"]) else {
                return nil
            }
            let connections = inner["max_connections"].map { $0.integer(in: StoreConfiguration.postgresConnectionsRange) }
                ?? StoreConfiguration.defaultPostgresConnections
            // Optional: LISTEN's own URL, for a PgBouncer in transaction mode in front of queries.
            let listens = inner["listen_url_env"] != nil || inner["listen_url_file"] != nil
            let listenURL = listens
                ? readSecret(inner, fileKey: "listen_url_file", envKey: "listen_url_env", what: "the PostgreSQL URL for LISTEN") : nil
            guard let url = readSecret(inner, fileKey: "url_file", envKey: "url_env", what: "the PostgreSQL URL"), let connections,
                  !listens || listenURL != nil
            else { return nil }
            return .postgres(url: url, maxConnections: connections, listenURL: listenURL)
        }
    }
}
