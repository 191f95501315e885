/// Stable reason codes: in refusals to clients, in the access log and as metric labels.
public enum ReasonCode: String, Hashable, Sendable, CaseIterable, Codable {
    // Allowed.
    case publicRoute = "public_route"
    case authenticated
    case permissionGranted = "permission_granted"
    case roleGranted = "role_granted"

    // Bad requests.
    case badPath = "bad_path"
    /// A path segment that is not a route's but would be taken for it by a server that folds
    /// Unicode case or width, drops combining marks, or trims trailing dots and spaces (IIS).
    case lookAlikePath = "look_alike_path"
    case badHost = "bad_host"
    case badForwardedFor = "bad_forwarded_for"

    // Routing.
    case noRoute = "no_route"
    case methodNotAllowed = "method_not_allowed"

    // Network policy.
    case ipNotGreenlisted = "ip_not_greenlisted"
    case countryBlocked = "country_blocked"

    // Identity: send to login.
    case loginRequired = "login_required"
    case sessionExpired = "session_expired"
    case sessionRevoked = "session_revoked"
    case invalidToken = "invalid_token"
    case tokenExpired = "token_expired"
    case tokenRevoked = "token_revoked"
    case bearerNotAllowed = "bearer_not_allowed"
    case userDeactivated = "user_deactivated"
    case mfaRequired = "mfa_required"
    /// The store could not be reached long enough that a cached session is no longer trusted.
    case sessionUnverifiable = "session_unverifiable"
    /// A bearer JWT for a subject that never signed in: bearer tokens never create or link users.
    case userUnknown = "user_unknown"
    /// `X-Portcullis-Act-As` from anything but a `global` API token.
    case actAsNotAllowed = "act_as_not_allowed"
    /// `X-Portcullis-Act-As` names no active user.
    case actAsUserUnknown = "act_as_user_unknown"
    /// The session was flagged as suspicious and must sign in again at the identity provider.
    case stepUpRequired = "step_up_required"
    /// The route (`max_auth_age`) or the admin API (`admin.max_auth_age`) needs a sign-in at the
    /// identity provider more recent than the session's.
    case reauthenticationRequired = "reauthentication_required"

    // Authorisation.
    case permissionRequired = "permission_required"
    case roleRequired = "role_required"

    /// Words for people, in refusals.
    public var explanation: String {
        switch self {
        case .publicRoute: "the route is public"
        case .authenticated: "signed in"
        case .permissionGranted: "the user holds the permission the route requires"
        case .roleGranted: "the user holds the role the route requires"
        case .badPath: "the request path is malformed or ambiguous"
        case .lookAlikePath: "the request path imitates a configured path (look-alike characters, or a trailing dot or space)"
        case .badHost: "the Host header is malformed"
        case .badForwardedFor: "a trusted proxy sent a malformed X-Forwarded-For header"
        case .noRoute: "no route is configured for this address"
        case .methodNotAllowed: "this route does not accept this method"
        case .ipNotGreenlisted: "your IP address is not on the allowed list"
        case .countryBlocked: "access from your location is not allowed for this page"
        case .loginRequired: "sign in to continue"
        case .sessionExpired: "your session has expired; sign in again"
        case .sessionRevoked: "your session was signed out; sign in again"
        case .invalidToken: "the credentials presented are not valid"
        case .tokenExpired: "the token has expired"
        case .tokenRevoked: "the token has been revoked"
        case .bearerNotAllowed: "this route does not accept bearer tokens; sign in through SSO"
        case .userDeactivated: "this account is deactivated"
        case .mfaRequired: "this page requires multi-factor authentication; sign in again with MFA"
        case .sessionUnverifiable: "your session cannot be verified right now; try again shortly"
        case .userUnknown: "this account has not signed in through SSO yet; sign in once in a browser first"
        case .actAsNotAllowed: "only a global API token may act as another user (X-Portcullis-Act-As)"
        case .actAsUserUnknown: "X-Portcullis-Act-As names no active user"
        case .stepUpRequired: "unusual activity was seen on your session; sign in again to continue"
        case .reauthenticationRequired: "this needs a recent sign-in; sign in again to continue"
        case .permissionRequired: "you do not have the permission this page requires"
        case .roleRequired: "you do not have the role this page requires"
        }
    }
}
