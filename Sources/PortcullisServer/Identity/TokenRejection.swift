import PortcullisCore

/// Why a signed token (ID token, bearer JWT, logout token) was refused. Safe to log: it never
/// carries the token.
public struct TokenRejection: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case malformed
        case tooLarge = "too_large"
        case algorithmNotAllowed = "algorithm_not_allowed"
        case embeddedKey = "embedded_key"
        case criticalHeader = "critical_header"
        case unknownKey = "unknown_key"
        case badSignature = "bad_signature"
        case claims
        case keysUnavailable = "keys_unavailable"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code.rawValue : "\(code.rawValue): \(detail)" }

    /// The reason code a refused request carries.
    public var reason: ReasonCode {
        if code == .claims, detail.hasPrefix("expired") { return .tokenExpired }
        return .invalidToken
    }
}
