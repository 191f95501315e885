#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a request proved who it is.
public enum AuthenticationMethod: String, Hashable, Sendable, Codable {
    /// A session cookie from an SSO login.
    case oidc
    /// A bearer JWT from the identity provider.
    case bearer
    /// A Portcullis API token.
    case apiToken = "api_token"

    /// Bearer JWTs and API tokens arrive in `Authorization: Bearer` and need `allow_bearer`.
    public var isBearerCredential: Bool { self != .oidc }
}

/// A user whose credential checked out, with what the policy needs to know about them.
public struct AuthenticatedUser: Hashable, Sendable {
    public let userID: String
    public let email: String
    public let displayName: String?
    public let role: EffectiveRole
    public let permissions: PermissionSet
    public let method: AuthenticationMethod
    /// The credential proved a second factor (`amr` or `acr`).
    public let hasMFA: Bool
    /// When the session or token stops being valid (the earlier of idle and absolute expiry).
    public let expiresAt: Date?
    /// Set once the session or token has been revoked.
    public let revokedAt: Date?
    /// Which credential: the session id's hash (hex) for a cookie session, the token id for an
    /// API token, `nil` for a bearer JWT.
    public let credentialID: String?
    /// Set when a `global` API token acts as this user (`X-Portcullis-Act-As`): who really asks.
    public let delegation: Delegation?
    /// When the user last proved who they are at the identity provider (the ID token's or the
    /// bearer JWT's `auth_time`); `nil` when nobody said (an API token, an IdP that does not send
    /// it), which no `max_auth_age` accepts.
    public let authenticatedAt: Date?

    public init(
        userID: String,
        email: String,
        displayName: String? = nil,
        role: EffectiveRole,
        permissions: PermissionSet,
        method: AuthenticationMethod,
        hasMFA: Bool = false,
        expiresAt: Date? = nil,
        revokedAt: Date? = nil,
        credentialID: String? = nil,
        delegation: Delegation? = nil,
        authenticatedAt: Date? = nil
    ) {
        self.userID = userID
        self.email = email
        self.displayName = displayName
        self.role = role
        self.permissions = permissions
        self.method = method
        self.hasMFA = hasMFA
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.credentialID = credentialID
        self.delegation = delegation
        self.authenticatedAt = authenticatedAt
    }

    /// Whether the user signed in at the identity provider at most `age` before `now`.
    public func authenticated(within age: Duration, at now: Date) -> Bool {
        guard let authenticatedAt else { return false }
        return now.timeIntervalSince(authenticatedAt) <= age.secondsValue
    }

    /// Neither revoked nor expired at `now`.
    public func isValid(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }

    /// Why this credential does not count at `now`: revoked comes before expired, and the code
    /// names the kind of credential (`session_revoked`, `token_expired`, …).
    public func invalidityReason(at now: Date) -> ReasonCode {
        if revokedAt != nil { return method == .oidc ? .sessionRevoked : .tokenRevoked }
        return method == .oidc ? .sessionExpired : .tokenExpired
    }
}

/// A `global` API token acting as another user (SPEC §2): the token and its owner. The request
/// runs with the user's role; the assertion's `act` claim and the audit log name these.
public struct Delegation: Hashable, Sendable {
    public let tokenID: String
    public let ownerID: String
    public let ownerEmail: String

    public init(tokenID: String, ownerID: String, ownerEmail: String) {
        self.tokenID = tokenID
        self.ownerID = ownerID
        self.ownerEmail = ownerEmail
    }
}

/// Who the request is, as far as the adapters could tell.
public enum RequestIdentity: Hashable, Sendable {
    /// No credential at all.
    case anonymous
    /// A credential was presented and refused; the code says why (`invalid_token`, …).
    case rejected(ReasonCode)
    case user(AuthenticatedUser)
}
