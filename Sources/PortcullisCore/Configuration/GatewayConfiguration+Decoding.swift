extension GatewayConfiguration {
    /// The top-level keys.
    static let topLevelKeys = ["server", "identity", "sessions", "store", "geoip", "network", "forward_auth", "admin", "routes"]

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
