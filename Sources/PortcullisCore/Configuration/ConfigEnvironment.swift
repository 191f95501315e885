/// What validation may ask of the outside world, injected so that the core does no I/O.
/// A `nil` check is skipped: `ip-check` needs the network policy, not the certificates.
public struct ConfigEnvironment: Sendable {
    public var fileExists: (@Sendable (String) -> Bool)?
    public var variable: (@Sendable (String) -> String?)?
    /// A file's permission bits (`0o640`), for the secret file rule (``SecretFileMode``).
    public var fileMode: (@Sendable (String) -> UInt32?)?

    public init(
        fileExists: (@Sendable (String) -> Bool)?, variable: (@Sendable (String) -> String?)?,
        fileMode: (@Sendable (String) -> UInt32?)? = nil
    ) {
        self.fileExists = fileExists
        self.variable = variable
        self.fileMode = fileMode
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

/// The one rule for files that hold a secret (a TLS private key, the OIDC client secret, the
/// refresh token key, the SCIM token, a webhook's key, a PostgreSQL URL with its password):
/// nobody but the owner and the owner's group may read it, and only the owner may write it:
/// mode 0600 or 0640 (root-owned with the service's group, as the README's production layout
/// has it), or stricter. `check-config`, start and every reload refuse another mode, naming the
/// file and the `chmod` that fixes it; the gateway writes its own such files 0600.
public enum SecretFileMode {
    /// The bits a secret file must not have: group write and anything for others.
    public static let forbidden: UInt32 = 0o027

    /// What is wrong with `mode` for a secret file, or `nil` when nothing is.
    public static func problem(_ mode: UInt32, file: String) -> String? {
        guard mode & forbidden != 0 else { return nil }
        let shown = String(mode & 0o7777, radix: 8).leftPadded(to: 4)
        let who = mode & 0o007 != 0 ? "other users can \(mode & 0o004 != 0 ? "read" : "use") it" : "its group can write it"
        return "file \(file) holds a secret but has mode \(shown) (\(who)); give it 0600, or 0640 with the service's group: chmod 0640 \(file)"
    }
}
