/// What validation may ask of the outside world, injected so that the core does no I/O.
/// A `nil` check is skipped: `ip-check` needs the network policy, not the certificates.
public struct ConfigEnvironment: Sendable {
    public var fileExists: (@Sendable (String) -> Bool)?
    public var variable: (@Sendable (String) -> String?)?

    public init(fileExists: (@Sendable (String) -> Bool)?, variable: (@Sendable (String) -> String?)?) {
        self.fileExists = fileExists
        self.variable = variable
    }

    /// Checks nothing outside the file.
    public static let documentOnly = ConfigEnvironment(fileExists: nil, variable: nil)
}

/// Paths in the configuration are relative to the file's folder.
public enum ConfigPaths {
    public static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        let folder = String(file[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    public static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") { return path }
        var parts = directory == "/" ? [] : directory.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for piece in path.split(separator: "/") {
            switch piece {
            case ".": continue
            case "..":
                if let last = parts.last, last != "..", last != ".", !last.isEmpty {
                    parts.removeLast()
                } else {
                    parts.append("..")
                }
            default: parts.append(String(piece))
            }
        }
        let joined = parts.joined(separator: "/")
        if directory.hasPrefix("/") { return joined.hasPrefix("/") ? joined : "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
