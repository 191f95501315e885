import PortcullisCore

/// Why a signed token (ID token, bearer JWT, logout token) was refused. Safe to log: it never
/// carries the token.
package struct TokenRejection: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: String, Hashable, Sendable {
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

    package let code: Code
    package let detail: String

    package init(_ code: Code, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    package var description: String { detail.isEmpty ? code.rawValue : "\(code.rawValue): \(detail)" }

    /// The reason code a refused request carries.
    package var reason: ReasonCode {
        if code == .claims, detail.hasPrefix("expired") { return .tokenExpired }
        return .invalidToken
    }
}
