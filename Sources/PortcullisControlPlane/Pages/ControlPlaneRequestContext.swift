import HTTPTypes
import Hummingbird
import PortcullisCore

/// A control-plane request's context: the client address and caller the data path vouched for.
package struct ControlPlaneRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Set by ``InternalOriginMiddleware``.
    package var clientAddress = IPAddress(ipv6: 0)
    package var caller: ControlPlaneCaller?
    /// Why a presented credential was refused, when it was.
    package var callerRejection: ReasonCode?
    package var maxUploadSize: Int { 1_048_576 }

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Only requests that came through the data path reach the control plane: they carry the
/// per-process token (every client-sent `X-Portcullis-*` header is stripped on the way in).
package struct InternalOriginMiddleware: RouterMiddleware {
    package typealias Context = ControlPlaneRequestContext
    let token: String

    package init(token: String) {
        self.token = token
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let received = ControlPlaneHandOff.parse(token: token, field: { name in
            HTTPField.Name(name).flatMap { request.headers[$0] }
        }) else {
            return ControlPlanePages.json(.forbidden, error: "forbidden", reason: "not_through_gateway",
                                          message: "the control plane is reached only through the gateway")
        }
        var context = context
        context.clientAddress = received.clientAddress
        context.caller = received.caller
        context.callerRejection = received.rejection
        return try await next(request, context)
    }
}
