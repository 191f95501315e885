import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// What the data path hands an authenticator: the credentials of one request.
package struct AuthenticationRequest: Sendable {
    /// Why the credential is asked about.
    package enum Purpose: Sendable {
        /// A request (an exchange) is being decided: what a use of the credential records (an
        /// act-as's audit entry) is recorded.
        case request
        /// A long response or a WebSocket tunnel asks again whether the credential that opened
        /// it still holds: the use was recorded when it was decided, and is not again.
        case recheck
    }

    package var headers: HTTPHeaders
    package var client: IPAddress
    package var now: Date
    package var purpose: Purpose

    package init(headers: HTTPHeaders, client: IPAddress, now: Date, purpose: Purpose = .request) {
        self.headers = headers
        self.client = client
        self.now = now
        self.purpose = purpose
    }
}

/// Who a request is, with what the data path must do about its credentials.
package struct Authentication: Sendable {
    package var identity: RequestIdentity
    /// `Authorization` carried a Portcullis credential and must not reach the upstream.
    package var consumedAuthorization: Bool
    /// Identity headers and the signed assertion for a given route's upstream.
    package var upstreamHeaders: @Sendable (Route) -> [(String, String)]
    /// Until when this answer may be given again, without asking the authenticator, to the
    /// same credential from the same client address, as long as the authenticator's
    /// ``RequestAuthenticator/credentialGeneration`` has not moved: no later than its
    /// cache may trust the store's answer (`sessions.max_staleness`) and before anything is
    /// due to be written (last seen, last use). `nil`: ask every time (refusals, act-as).
    package var reusableUntil: ContinuousClock.Instant?

    package init(
        identity: RequestIdentity,
        consumedAuthorization: Bool = false,
        upstreamHeaders: @escaping @Sendable (Route) -> [(String, String)] = { _ in [] },
        reusableUntil: ContinuousClock.Instant? = nil
    ) {
        self.identity = identity
        self.consumedAuthorization = consumedAuthorization
        self.upstreamHeaders = upstreamHeaders
        self.reusableUntil = reusableUntil
    }

    package static let anonymous = Authentication(identity: .anonymous)
}

/// Resolves a request's identity: session cookie, bearer JWT or API token. The fast path (a
/// cached session, no credential) answers at once; a cache miss answers with a future on the
/// given event loop.
package protocol RequestAuthenticator: Sendable {
    func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> AuthenticationOutcome
    /// Moves whenever an answer given before may no longer hold: every policy change, every
    /// session evicted (a sign-out, a revocation broadcast by another instance). An answer
    /// with ``Authentication/reusableUntil`` is reused only while this has not moved.
    var credentialGeneration: UInt64 { get }
}

extension RequestAuthenticator {
    package var credentialGeneration: UInt64 { 0 }
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
