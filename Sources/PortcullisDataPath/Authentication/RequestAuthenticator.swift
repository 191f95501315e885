import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// What the data path hands an authenticator: the credentials of one request.
package struct AuthenticationRequest: Sendable {
    package var headers: HTTPHeaders
    package var client: IPAddress
    package var now: Date

    package init(headers: HTTPHeaders, client: IPAddress, now: Date) {
        self.headers = headers
        self.client = client
        self.now = now
    }
}

/// Who a request is, with what the data path must do about its credentials.
package struct Authentication: Sendable {
    package var identity: RequestIdentity
    /// `Authorization` carried a Portcullis credential and must not reach the upstream.
    package var consumedAuthorization: Bool
    /// Identity headers and the signed assertion for a given route's upstream.
    package var upstreamHeaders: @Sendable (Route) -> [(String, String)]

    package init(
        identity: RequestIdentity,
        consumedAuthorization: Bool = false,
        upstreamHeaders: @escaping @Sendable (Route) -> [(String, String)] = { _ in [] }
    ) {
        self.identity = identity
        self.consumedAuthorization = consumedAuthorization
        self.upstreamHeaders = upstreamHeaders
    }

    package static let anonymous = Authentication(identity: .anonymous)
}

/// Resolves a request's identity: session cookie, bearer JWT or API token. The fast path (a
/// cached session, no credential) answers at once; a cache miss answers with a future on the
/// given event loop.
package protocol RequestAuthenticator: Sendable {
    func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> AuthenticationOutcome
}

package enum AuthenticationOutcome {
    case resolved(Authentication)
    case pending(EventLoopFuture<Authentication>)

    /// The same outcome, with `Authorization` marked as the gateway's: it is not passed on.
    func consumingAuthorization() -> AuthenticationOutcome {
        switch self {
        case .resolved(var authentication):
            authentication.consumedAuthorization = true
            return .resolved(authentication)
        case .pending(let future):
            return .pending(future.map { authentication in
                var consumed = authentication
                consumed.consumedAuthorization = true
                return consumed
            })
        }
    }
}
