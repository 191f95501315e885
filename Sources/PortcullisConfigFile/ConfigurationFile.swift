import Foundation
import PortcullisCore
import Yams

/// Reads `conf/portcullis.yaml`: YAML through Yams into the core's configuration tree, then the
/// core's validation. Every problem comes back at once, each with the file, key path and what
/// was expected.
public enum ConfigurationFile {
    /// Larger files are refused before parsing.
    public static let maximumBytes = 1_048_576
    /// Nodes after alias expansion; a YAML alias bomb stops here, fast.
    public static let maximumNodes = 100_000
    /// Nesting depth.
    public static let maximumDepth = 64

    /// The default path, relative to the working directory.
    public static let defaultPath = "conf/portcullis.yaml"

    /// Loads and validates a configuration file.
    public static func load(
        path: String,
        environment: ConfigEnvironment = .system
    ) -> Result<GatewayConfiguration, ConfigurationError> {
        let root: ConfigNode
        do {
            root = try parse(text: try read(path: path), file: path)
        } catch {
            return .failure(error)
        }
        return GatewayConfiguration.decode(root, file: path, environment: environment)
    }

    /// Reads a file's text, refusing missing, unreadable, oversized or non-UTF-8 files.
    public static func read(path: String) throws(ConfigurationError) -> String {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? NSNumber, size.intValue > maximumBytes {
                throw problem(path, nil, "file is larger than \(maximumBytes) bytes")
            }
            data = try Data(contentsOf: url)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw problem(path, nil, "cannot read the file: \(Self.describe(error))")
        }
        guard data.count <= maximumBytes else {
            throw problem(path, nil, "file is larger than \(maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw problem(path, nil, "expected UTF-8 text")
        }
        return text
    }

    /// Parses YAML text into a configuration tree.
    public static func parse(text: String, file: String) throws(ConfigurationError) -> ConfigNode {
        guard text.utf8.count <= maximumBytes else {
            throw problem(file, nil, "file is larger than \(maximumBytes) bytes")
        }
        if let finding = YAMLSafetyScan.check(text) {
            throw problem(file, ConfigMark(line: finding.line, column: finding.column), finding.message)
        }
        let node: Node?
        do {
            let parser = try Parser(yaml: text)
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw problem(file, Self.mark(of: error), "not valid YAML: \(Self.summary(of: error))")
        } catch {
            throw problem(file, nil, "not valid YAML: \(error)")
        }
        guard let node else {
            throw problem(file, nil, "the file is empty; expected a mapping with server and routes")
        }
        var converter = Converter(file: file)
        return try converter.convert(node, depth: 0)
    }

    private static func problem(_ file: String, _ mark: ConfigMark?, _ message: String) -> ConfigurationError {
        ConfigurationError(problems: [ConfigProblem(file: file, path: "", mark: mark, message: message)])
    }

    private static func mark(of error: YamlError) -> ConfigMark? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            ConfigMark(line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(_, let context):
            ConfigMark(line: context.mark.line, column: context.mark.column)
        default:
            nil
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            context.map { "\(problem) (\($0.text))" } ?? problem
        case .duplicatedKeysInMapping(let duplicates, _):
            "duplicate keys: \(duplicates.joined(separator: ", "))"
        default:
            "\(error)"
        }
    }

    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError || nsError.code == 260 {
            return "no such file"
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoPermissionError || nsError.code == 257 {
            return "permission denied"
        }
        return nsError.localizedDescription
    }

    /// Turns Yams nodes into the core's tree, counting nodes so aliases cannot expand without
    /// bound.
    struct Converter {
        let file: String
        var count = 0

        mutating func convert(_ node: Node, depth: Int) throws(ConfigurationError) -> ConfigNode {
            count += 1
            let mark = node.mark.map { ConfigMark(line: $0.line, column: $0.column) }
            guard count <= ConfigurationFile.maximumNodes else {
                throw problem(file, mark, "the document expands to more than \(ConfigurationFile.maximumNodes) nodes (a YAML alias bomb?)")
            }
            guard depth <= ConfigurationFile.maximumDepth else {
                throw problem(file, mark, "nesting deeper than \(ConfigurationFile.maximumDepth) levels")
            }
            switch node {
            case .scalar(let scalar):
                return .scalar(ConfigNode.Scalar(text: scalar.string, isPlain: scalar.style == .plain, mark: mark))
            case .sequence(let sequence):
                var items: [ConfigNode] = []
                for child in sequence {
                    items.append(try convert(child, depth: depth + 1))
                }
                return .sequence(items, mark)
            case .mapping(let mapping):
                var entries: [ConfigNode.Entry] = []
                for (key, value) in mapping {
                    let keyMark = key.mark.map { ConfigMark(line: $0.line, column: $0.column) }
                    guard case .scalar(let keyScalar) = key else {
                        throw problem(file, keyMark, "mapping keys must be plain strings")
                    }
                    count += 1
                    entries.append(ConfigNode.Entry(key: keyScalar.string, keyMark: keyMark, value: try convert(value, depth: depth + 1)))
                }
                return .mapping(entries, mark)
            case .alias:
                throw problem(file, mark, "unresolved YAML alias")
            }
        }
    }
}

extension ConfigEnvironment {
    /// Checks files and environment variables of this process.
    public static let system = ConfigEnvironment(
        fileExists: { FileManager.default.isReadableFile(atPath: $0) },
        variable: { ProcessInfo.processInfo.environment[$0] },
        fileMode: { path in
            var status = stat()
            return stat(path, &status) == 0 ? UInt32(status.st_mode) & 0o7777 : nil
        }
    )

    /// Checks the document only: for commands such as `ip-check` that need the network policy
    /// and not the certificates or secrets.
    public static let networkOnly = ConfigEnvironment.documentOnly
}
