/// Why a SCIM request was refused (RFC 7644 §3.12): an HTTP status, the `scimType` a client can
/// act on, and words for people. Details never echo more than a bounded slice of the input.
public struct SCIMFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// RFC 7644 §3.12, table 9.
    public enum ScimType: String, Hashable, Sendable {
        case invalidFilter
        case tooMany
        case uniqueness
        case mutability
        case invalidSyntax
        case invalidPath
        case noTarget
        case invalidValue
        case invalidVers
        case sensitive
    }

    public let status: Int
    public let scimType: ScimType?
    public let detail: String

    public init(status: Int, scimType: ScimType?, detail: String) {
        self.status = status
        self.scimType = scimType
        self.detail = detail
    }

    public var description: String { "\(status) \(scimType?.rawValue ?? "-"): \(detail)" }

    public static func invalidFilter(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .invalidFilter, detail: detail) }
    public static func tooMany(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .tooMany, detail: detail) }
    public static func uniqueness(_ detail: String) -> SCIMFailure { SCIMFailure(status: 409, scimType: .uniqueness, detail: detail) }
    public static func mutability(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .mutability, detail: detail) }
    public static func invalidSyntax(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .invalidSyntax, detail: detail) }
    public static func invalidPath(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .invalidPath, detail: detail) }
    public static func noTarget(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .noTarget, detail: detail) }
    public static func invalidValue(_ detail: String) -> SCIMFailure { SCIMFailure(status: 400, scimType: .invalidValue, detail: detail) }
    public static func notFound(_ detail: String) -> SCIMFailure { SCIMFailure(status: 404, scimType: nil, detail: detail) }
    public static func methodNotAllowed(_ detail: String) -> SCIMFailure { SCIMFailure(status: 405, scimType: nil, detail: detail) }
    public static func preconditionFailed(_ detail: String) -> SCIMFailure { SCIMFailure(status: 412, scimType: nil, detail: detail) }

    /// Input quoted in a detail: at most 64 characters, control characters dropped.
    public static func quoted(_ text: some StringProtocol) -> String {
        let kept = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(64)
        return String(String.UnicodeScalarView(kept)) + (text.unicodeScalars.count > 64 ? "…" : "")
    }
}
