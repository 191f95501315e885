import HTTPTypes
import PortcullisDataPath

/// A SCIM error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail.
struct SCIMError: Error, Sendable {
    let status: HTTPResponse.Status
    let scimType: String?
    let detail: String

    static func invalidSyntax(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "invalidSyntax", detail: detail) }
    static func invalidValue(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "invalidValue", detail: detail) }
    static func invalidFilter(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "invalidFilter", detail: detail) }
    static func invalidPath(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "invalidPath", detail: detail) }
    static func noTarget(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "noTarget", detail: detail) }
    static func mutability(_ detail: String) -> SCIMError { SCIMError(status: .badRequest, scimType: "mutability", detail: detail) }
    static func uniqueness(_ detail: String) -> SCIMError { SCIMError(status: .conflict, scimType: "uniqueness", detail: detail) }
    static func notFound(_ detail: String) -> SCIMError { SCIMError(status: .notFound, scimType: nil, detail: detail) }
    static let unauthorized = SCIMError(status: .unauthorized, scimType: nil, detail: "a valid SCIM bearer token is required")
    static let tooLarge = SCIMError(status: .contentTooLarge, scimType: nil, detail: "the request body is too large")
    static let unavailable = SCIMError(status: .serviceUnavailable, scimType: nil, detail: "the store cannot be reached; nothing was changed")
}
