import PortcullisCore
import Yams

extension ConfigurationFile {
    /// The YAML `text` with every override applied. Keys keep their order and style; comments
    /// are not kept. Refuses text that is not a YAML mapping (the problems name `file`).
    public static func applying(
        _ overrides: [ConfigurationOverride], to text: String, file: String
    ) throws(ConfigurationError) -> String {
        // The same checks as loading: size, the alias-bomb scan, valid YAML.
        _ = try parse(text: text, file: file)
        let root: Node?
        do {
            root = try Parser(yaml: text).singleRoot()
        } catch {
            throw ConfigurationError(problems: [ConfigProblem(file: file, path: "", mark: nil, message: "not valid YAML: \(error)")])
        }
        guard var document = root, document.mapping != nil else {
            throw ConfigurationError(problems: [ConfigProblem(file: file, path: "", mark: nil, message: "expected a mapping with server and routes")])
        }
        for override in overrides {
            document = setting(document, at: override.keyPath[...], to: node(override.value))
        }
        do {
            return try serialize(node: document, width: -1)
        } catch {
            throw ConfigurationError(problems: [ConfigProblem(file: file, path: "", mark: nil, message: "cannot write YAML: \(error)")])
        }
    }

    private static func setting(_ node: Node, at keyPath: ArraySlice<String>, to value: Node) -> Node {
        guard let key = keyPath.first else { return value }
        var mapping = node.mapping ?? Node.Mapping([])
        let child = mapping[key] ?? Node.mapping(Node.Mapping([]))
        mapping[key] = setting(child, at: keyPath.dropFirst(), to: value)
        return .mapping(mapping)
    }

    private static func node(_ value: ConfigurationOverride.Value) -> Node {
        switch value {
        case .scalar(let text):
            Node(text)
        case .mapping(let pairs):
            .mapping(Node.Mapping(pairs.map { (Node($0.key), node($0.value)) }))
        }
    }
}
