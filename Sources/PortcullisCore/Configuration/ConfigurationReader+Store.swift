/// `store`: SQLite or PostgreSQL.
extension ConfigurationReader {
    func readStore(_ value: ConfigValue) -> StoreConfiguration? {
        guard let map = value.mapping(keys: ["sqlite", "postgres"]) else { return nil }
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
}
