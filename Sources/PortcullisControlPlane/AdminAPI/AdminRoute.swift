import HTTPTypes
import PortcullisCore

/// One endpoint of the admin API: its method and path under `/_portcullis/api/v1/`, what the
/// caller needs before its handler runs, and the handler. The whole API is one table of these
/// (``AdminAPI/routes``).
struct AdminRoute: Sendable {
    /// What the caller needs before the handler runs (SPEC §1.3). A handler checks only what
    /// depends on the request itself: a token's scope, whose token it is.
    enum Access: Sendable {
        /// Anyone signed in: their own data, or what the product is.
        case signedIn
        case permission(Permission)
        /// Super admins only; the words say what for (`rotating signing keys`).
        case superAdmin(String)
    }

    let method: HTTPRequest.Method
    let path: String
    let access: Access
    /// Whether a `GET` or `HEAD` waits on the store for `store.request_deadline` at most
    /// (off only where the read is as long as the data: verifying the whole audit chain).
    let readDeadline: Bool
    let handler: @Sendable (AdminAPI) -> AdminAPI.Handler

    init(
        _ method: HTTPRequest.Method, _ path: String, _ access: Access, readDeadline: Bool = true,
        _ handler: @escaping @Sendable (AdminAPI) -> AdminAPI.Handler
    ) {
        self.method = method
        self.path = path
        self.access = access
        self.readDeadline = readDeadline
        self.handler = handler
    }
}
