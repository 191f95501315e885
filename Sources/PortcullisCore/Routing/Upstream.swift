/// Where a route's traffic goes: `http://host:port` or `https://host:port`.
public struct Upstream: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Hashable, Sendable {
        case http
        case https
    }

    public let scheme: Scheme
    /// A host name or an IP literal (IPv6 without brackets).
    public let host: String
    public let port: Int
    /// The authority for a `Host` header: `127.0.0.1:8080`, `[::1]:8080`, `app.internal` (no
    /// default port). Made once: every proxied request sends it.
    public let authority: String

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let isDefault = (scheme == .http && port == 80) || (scheme == .https && port == 443)
        authority = isDefault ? hostPart : "\(hostPart):\(port)"
    }

    /// Parses `http://127.0.0.1:8080`, `https://app.internal`, `http://[::1]:8080`. Paths,
    /// queries and user information are refused.
    public init?(parsing text: String) {
        let scheme: Scheme
        let rest: Substring
        if text.hasPrefix("http://") {
            scheme = .http
            rest = text.dropFirst(7)
        } else if text.hasPrefix("https://") {
            scheme = .https
            rest = text.dropFirst(8)
        } else {
            return nil
        }
        var authority = rest
        if authority.last == "/" { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"),
              !authority.contains("?"), !authority.contains("#") else { return nil }
        var host: Substring
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            guard (try? IPAddress(parsing: host)) != nil else { return nil }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portText = after.dropFirst()
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            guard HostName(host) != nil else { return nil }
        }
        var port = scheme == .https ? 443 : 80
        if let portText {
            guard let value = Int(portText), portText.allSatisfy(\.isASCIIDigit), (1...65_535).contains(value) else {
                return nil
            }
            port = value
        }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    public var description: String { "\(scheme.rawValue)://\(authority)" }
}
