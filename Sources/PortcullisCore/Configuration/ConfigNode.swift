/// A position in a configuration file, 1-based.
public struct ConfigMark: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A parsed configuration document, independent of the file format. The YAML adapter builds
/// it; the core validates it.
public indirect enum ConfigNode: Sendable {
    public struct Scalar: Sendable {
        public let text: String
        /// Written without quotes: only plain scalars can be null or booleans.
        public let isPlain: Bool
        public let mark: ConfigMark?

        public init(text: String, isPlain: Bool, mark: ConfigMark?) {
            self.text = text
            self.isPlain = isPlain
            self.mark = mark
        }
    }

    public struct Entry: Sendable {
        public let key: String
        public let keyMark: ConfigMark?
        public let value: ConfigNode

        public init(key: String, keyMark: ConfigMark?, value: ConfigNode) {
            self.key = key
            self.keyMark = keyMark
            self.value = value
        }
    }

    case scalar(Scalar)
    case mapping([Entry], ConfigMark?)
    case sequence([ConfigNode], ConfigMark?)

    public var mark: ConfigMark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }

    /// `~`, `null` or nothing, unquoted.
    public var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.isPlain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.text)
    }

    /// How the node reads in "got …" messages.
    var shapeDescription: String {
        switch self {
        case .scalar(let scalar):
            if isNull { return "nothing" }
            let text = scalar.text.count > 60 ? String(scalar.text.prefix(60)) + "…" : scalar.text
            return "\"\(text)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
