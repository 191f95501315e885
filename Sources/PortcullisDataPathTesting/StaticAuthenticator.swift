import Foundation
import NIOCore
import PortcullisCore
import PortcullisDataPath

/// An authenticator with a fixed table of session cookies, for tests that need signed-in,
/// revoked or expired callers without a store or an IdP. Identity headers are the basic ones.
package struct StaticAuthenticator: RequestAuthenticator {
    /// Session cookie value → the user it names.
    package let sessions: [String: AuthenticatedUser]

    package init(sessions: [String: AuthenticatedUser]) {
        self.sessions = sessions
    }

    package func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> AuthenticationOutcome {
        guard let cookie = CookieText.value(of: SessionCookie.name, in: request.headers) else { return .resolved(.anonymous) }
        guard let user = sessions[cookie] else { return .resolved(Authentication(identity: .rejected(.sessionExpired))) }
        return .resolved(Authentication(identity: .user(user), upstreamHeaders: { _ in IdentityHeaders.basic(for: user) }))
    }

    /// A member with a session that is good, one whose session was revoked.
    package static func user(_ email: String, revoked: Bool = false) -> AuthenticatedUser {
        AuthenticatedUser(
            userID: "id-" + email, email: email, role: EffectiveRole(primary: .member),
            permissions: PermissionSet(), method: .oidc, revokedAt: revoked ? Date(timeIntervalSince1970: 1) : nil
        )
    }
}
