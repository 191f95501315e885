import HTTPTypes
import PortcullisCore

/// A refusal of the admin API: a status, a stable reason code and words for people. Never
/// carries internal detail, tokens or cookies.
struct AdminAPIError: Error, Sendable {
    let status: HTTPResponse.Status
    let reason: String
    let message: String
    /// The role a role-change refusal is about.
    var role: String?
    /// Where to sign in to satisfy the refusal (`mfa_required`, `reauthentication_required`).
    var login: String?

    var error: String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthenticated"
        case 403: "forbidden"
        case 404: "not_found"
        case 409: "conflict"
        case 413: "too_large"
        case 428: "precondition_required"
        case 502: "bad_gateway"
        case 503: "unavailable"
        default: "error"
        }
    }

    /// 401, or 503 when the caller's credential could not be checked (`session_unverifiable`):
    /// signing in again would not help, trying again shortly may.
    static func unauthenticated(_ reason: ReasonCode) -> AdminAPIError {
        AdminAPIError(
            status: reason == .sessionUnverifiable ? .serviceUnavailable : .unauthorized, reason: reason.rawValue, message: reason.explanation
        )
    }

    /// The caller's sign-in is not strong or recent enough for the admin API (401 with the
    /// login that is).
    static func signInRequired(_ reason: ReasonCode, login: String) -> AdminAPIError {
        AdminAPIError(status: .unauthorized, reason: reason.rawValue, message: reason.explanation, login: login)
    }

    static func permissionRequired(_ permission: Permission) -> AdminAPIError {
        AdminAPIError(status: .forbidden, reason: ReasonCode.permissionRequired.rawValue,
                      message: "this needs the \(permission.rawValue) permission")
    }

    static func badRequest(_ message: String, reason: String = "invalid_request") -> AdminAPIError {
        AdminAPIError(status: .badRequest, reason: reason, message: message)
    }

    static func unknownRole(_ name: String) -> AdminAPIError {
        let shown = String(name.prefix(64))
        return AdminAPIError(status: .badRequest, reason: "unknown_role", message: "\"\(shown)\" is not a role", role: shown, login: nil)
    }

    static func notFound(_ what: String) -> AdminAPIError {
        AdminAPIError(status: .notFound, reason: "not_found", message: "\(what) does not exist")
    }

    static func conflict(_ reason: String, _ message: String) -> AdminAPIError {
        AdminAPIError(status: .conflict, reason: reason, message: message)
    }

    static func refused(_ refusal: RoleChangeRefusal) -> AdminAPIError {
        AdminAPIError(
            status: HTTPResponse.Status(code: refusal.status), reason: refusal.code.rawValue, message: refusal.message,
            role: refusal.role?.description
        )
    }

    static let csrf = AdminAPIError(
        status: .forbidden, reason: "csrf_token_invalid",
        message: "state-changing requests with the session cookie need the X-CSRF-Token header from GET /me"
    )

    static let crossOrigin = AdminAPIError(
        status: .forbidden, reason: "cross_origin", message: "this request came from another site"
    )

    static let storeUnavailable = AdminAPIError(
        status: .serviceUnavailable, reason: "store_unavailable", message: "the store cannot be reached; nothing was changed"
    )
}
