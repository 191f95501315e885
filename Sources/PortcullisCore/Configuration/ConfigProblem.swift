/// One thing wrong with a configuration file: where, which key, what was expected.
public struct ConfigProblem: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    /// `routes[1].require.permission`; empty for the document itself.
    public let path: String
    public let mark: ConfigMark?
    public let message: String

    public init(file: String, path: String, mark: ConfigMark?, message: String) {
        self.file = file
        self.path = path
        self.mark = mark
        self.message = message
    }

    /// `conf/portcullis.yaml:12:5: server.listen: expected host:port …, got "x"`.
    public var description: String {
        let location = mark.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// Every problem found in a configuration, reported together.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return "configuration has \(count):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
