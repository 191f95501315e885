import HTTPTypes
import Hummingbird
import PortcullisCore

/// Who called, as the data path verified it: the credential checked out and is neither revoked
/// nor expired. The control plane reads the user's roles afresh from the store.
public struct ControlPlaneCaller: Hashable, Sendable {
    public var userID: String
    public var method: AuthenticationMethod
    /// The session id's hash (hex) for cookie sessions, the token id for API tokens.
    public var credentialID: String?
    public var hasMFA: Bool
}

/// A control-plane request's context: the client address and caller the data path vouched for.
public struct ControlPlaneRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``InternalOriginMiddleware``.
    public var clientAddress = IPAddress(ipv6: 0)
    public var caller: ControlPlaneCaller?
    /// Why a presented credential was refused, when it was.
    public var callerRejection: ReasonCode?
    public var maxUploadSize: Int { 1_048_576 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Only requests that came through the data path reach the control plane: they carry the
/// per-process token (every client-sent `X-Portcullis-*` header is stripped on the way in).
struct InternalOriginMiddleware: RouterMiddleware {
    typealias Context = ControlPlaneRequestContext
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = request.headers[.portcullisInternalToken],
              ConstantTime.equal(presented, token),
              let address = request.headers[.portcullisClientAddress].flatMap({ try? IPAddress(parsing: $0) })
        else {
            return ControlPlanePages.json(.forbidden, error: "forbidden", reason: "not_through_gateway",
                                          message: "the control plane is reached only through the gateway")
        }
        var context = context
        context.clientAddress = address
        if let userID = request.headers[.portcullisCallerUser],
           let method = request.headers[.portcullisCallerMethod].flatMap(AuthenticationMethod.init(rawValue:)) {
            context.caller = ControlPlaneCaller(
                userID: userID, method: method, credentialID: request.headers[.portcullisCallerCredential],
                hasMFA: request.headers[.portcullisCallerMFA] == "1"
            )
        }
        context.callerRejection = request.headers[.portcullisCallerRejected].flatMap(ReasonCode.init(rawValue:))
        return try await next(request, context)
    }
}

/// Comparisons of secrets that take the same time whatever the input.
public enum ConstantTime {
    public static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
