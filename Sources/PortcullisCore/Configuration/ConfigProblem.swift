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

/// Every problem found in a configuration, reported together, in the order of the file: by
/// file, then line and column (problems about a file as a whole come first). Validation finds
/// them section by section; people read them top to bottom.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems.enumerated().sorted { left, right in
            let a = left.element, b = right.element
            if a.file != b.file { return a.file < b.file }
            let lineA = a.mark.map { ($0.line, $0.column) } ?? (0, 0)
            let lineB = b.mark.map { ($0.line, $0.column) } ?? (0, 0)
            if lineA != lineB { return lineA < lineB }
            return left.offset < right.offset
        }.map(\.element)
    }

    /// `conf/portcullis.yaml has 2 problems:` and one indented line per problem.
    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        let files = Set(problems.map(\.file)).sorted()
        let subject = files.count == 1 ? files[0] : "the configuration"
        return "\(subject) has \(count):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
