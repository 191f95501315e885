/// A greenlist proposed for a dry run (`portcullis ip-check --proposed FILE`), read from YAML or
/// JSON in any of the shapes an operator already has at hand:
/// - a list of entries as the configuration writes them: `- { cidr: 198.51.100.0/24, label: office }`;
/// - one list as `GET /greenlists` shows it: `{name, entries: [...]}` (`source` and `tenant`
///   are ignored);
/// - the admin API's dry-run body: `{greenlist: {entries: [...]}}`.
public enum ProposedGreenlist {
    /// At most this many entries, as the admin API allows.
    public static let maximumEntries = 10_000

    public static func decode(_ root: ConfigNode, file: String) -> Result<Greenlist, ConfigurationError> {
        let problems = ConfigProblemCollector(file: file)
        let reader = ConfigurationReader(problems: problems, directory: ConfigPaths.directory(of: file), environment: .documentOnly)
        let list = reader.readProposedGreenlist(ConfigValue(node: root, path: "", problems: problems))
        if let list, problems.problems.isEmpty { return .success(list) }
        return .failure(ConfigurationError(problems: problems.problems))
    }
}

extension ConfigurationReader {
    func readProposedGreenlist(_ value: ConfigValue) -> Greenlist? {
        var name = "proposed"
        let entries: [Greenlist.Entry]?
        switch value.node {
        case .sequence:
            entries = value.list(readGreenlistEntry)
        case .mapping(let pairs, _) where pairs.contains(where: { $0.key == "greenlist" }):
            guard let body = value.mapping(keys: ["greenlist"]) else { return nil }
            return body.required("greenlist", "the proposed list: {entries: [...]}").flatMap(readProposedGreenlist)
        default:
            guard let map = value.mapping(keys: ["name", "entries", "source", "tenant"]) else { return nil }
            if let given = map["name"].flatMap({ $0.nonEmptyString("a list name") }) { name = given }
            entries = map.required("entries", "a list of {cidr, label}").flatMap { $0.list(readGreenlistEntry) }
        }
        guard let entries else { return nil }
        guard entries.count <= ProposedGreenlist.maximumEntries else {
            value.problem("a greenlist holds at most \(ProposedGreenlist.maximumEntries) entries, not \(entries.count)")
            return nil
        }
        return Greenlist(name: name, entries: entries)
    }
}
