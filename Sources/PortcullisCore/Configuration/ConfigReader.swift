/// Collects problems while a configuration tree is read, so that all of them are reported at
/// once rather than the first.
final class ConfigProblemCollector {
    let file: String
    private(set) var problems: [ConfigProblem] = []

    init(file: String) {
        self.file = file
    }

    func add(_ path: String, _ mark: ConfigMark?, _ message: String) {
        problems.append(ConfigProblem(file: file, path: path, mark: mark, message: message))
    }
}

/// A node with its key path. Every accessor reports what it expected when the node does not
/// fit and answers `nil`; callers carry on so later problems are found too.
struct ConfigValue {
    let node: ConfigNode
    let path: String
    let problems: ConfigProblemCollector

    var mark: ConfigMark? { node.mark }
    var isNull: Bool { node.isNull }

    func problem(_ message: String) {
        problems.add(path, node.mark, message)
    }

    func expected(_ what: String) {
        problem("expected \(what), got \(node.shapeDescription)")
    }

    /// Any non-null scalar.
    func string(_ what: String = "a string") -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            expected(what)
            return nil
        }
        return scalar.text
    }

    /// A string with at least one non-space character.
    func nonEmptyString(_ what: String = "a non-empty string") -> String? {
        guard let text = string(what) else { return nil }
        guard text.contains(where: { !$0.isWhitespace }) else {
            expected(what)
            return nil
        }
        return text
    }

    func bool() -> Bool? {
        guard case .scalar(let scalar) = node, scalar.isPlain else {
            expected("true or false")
            return nil
        }
        switch scalar.text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            expected("true or false")
            return nil
        }
    }

    func integer(in range: ClosedRange<Int>) -> Int? {
        let what = "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .scalar(let scalar) = node, scalar.isPlain,
              scalar.text.allSatisfy(\.isASCIIDigit), scalar.text.count <= 18,
              let value = Int(scalar.text), range.contains(value)
        else {
            expected(what)
            return nil
        }
        return value
    }

    func duration(within range: ClosedRange<Duration>? = nil) -> Duration? {
        guard let text = string("a duration such as 500ms, 5s, 90m or 8h"),
              let value = DurationText.parse(text)
        else {
            if case .scalar = node, !node.isNull { expected("a duration such as 500ms, 5s, 90m or 8h") }
            return nil
        }
        if let range, !range.contains(value) {
            expected(
                "a duration from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))"
            )
            return nil
        }
        return value
    }

    func byteCount(in range: ClosedRange<Int>) -> Int? {
        let what = "a size from \(range.lowerBound) to \(range.upperBound) bytes, such as 16KiB or 1MiB"
        guard let text = string(what) else { return nil }
        guard let value = ByteCountText.parse(text), range.contains(value) else {
            expected(what)
            return nil
        }
        return value
    }

    /// Each element read with `element`; `nil` when this is not a list. Elements that fail
    /// are left out (their problems are already reported).
    func list<T>(_ element: (ConfigValue) -> T?) -> [T]? {
        guard case .sequence(let nodes, _) = node else {
            expected("a list")
            return nil
        }
        return nodes.enumerated().compactMap { index, child in
            element(ConfigValue(node: child, path: "\(path)[\(index)]", problems: problems))
        }
    }

    /// A mapping whose keys must all be in `keys`; unknown and repeated keys are reported.
    func mapping(keys: [String]) -> ConfigMapping? {
        guard case .mapping(let entries, _) = node else {
            expected(keys.isEmpty ? "a mapping" : "a mapping with keys \(keys.joined(separator: ", "))")
            return nil
        }
        var seen: [String: ConfigValue] = [:]
        for entry in entries {
            let childPath = Self.join(path, entry.key)
            if seen[entry.key] != nil {
                problems.add(childPath, entry.keyMark, "key appears more than once")
                continue
            }
            if !keys.isEmpty, !keys.contains(entry.key) {
                let hint = Self.closest(entry.key, in: keys).map { " (did you mean \($0)?)" } ?? ""
                problems.add(
                    childPath, entry.keyMark,
                    "unknown key; expected one of \(keys.joined(separator: ", "))\(hint)"
                )
                continue
            }
            seen[entry.key] = ConfigValue(node: entry.value, path: childPath, problems: problems)
        }
        return ConfigMapping(value: self, children: seen, order: entries.map(\.key))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// A known key within two edits of a misspelt one.
    static func closest(_ key: String, in candidates: [String]) -> String? {
        candidates
            .map { ($0, editDistance($0, key)) }
            .filter { $0.1 <= 2 }
            .min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The checked keys of a mapping.
struct ConfigMapping {
    let value: ConfigValue
    let children: [String: ConfigValue]
    /// Keys in file order, including unknown ones.
    let order: [String]

    /// The value under `key`, or `nil` when absent or null.
    subscript(key: String) -> ConfigValue? {
        guard let child = children[key], !child.isNull else { return nil }
        return child
    }

    /// Like the subscript, but a missing key is a problem.
    func required(_ key: String, _ what: String) -> ConfigValue? {
        guard let child = self[key] else {
            problem("missing key \(key) (\(what))")
            return nil
        }
        return child
    }

    func problem(_ message: String) {
        value.problem(message)
    }

    var path: String { value.path }

    /// The known keys present, in file order.
    var presentKeys: [String] {
        order.filter { children[$0] != nil && !(children[$0]?.isNull ?? true) }
    }
}
