/// `identity:` — the OIDC provider, bearer JWTs, SCIM and where group memberships come from.
public struct IdentityConfiguration: Sendable {
    public var oidc: OIDCConfiguration?
    public var bearer: BearerConfiguration?
    public var scim: SCIMConfiguration?
    /// `identity.groups.source`: which memberships count for effective roles.
    public var groupSource: GroupSourcePolicy

    public init(
        oidc: OIDCConfiguration? = nil, bearer: BearerConfiguration? = nil, scim: SCIMConfiguration? = nil, groupSource: GroupSourcePolicy = .both
    ) {
        self.oidc = oidc
        self.bearer = bearer
        self.scim = scim
        self.groupSource = groupSource
    }
}

/// `identity.oidc.userinfo`: when to read the provider's UserInfo endpoint after the code
/// exchange (and on refresh).
public enum UserInfoMode: String, Hashable, Sendable, CaseIterable {
    /// When a configured claim (email, `email_verified`, name, groups, department) is missing
    /// from the ID token.
    case auto
    case always
    case never
}

/// `identity.oidc:`.
public struct OIDCConfiguration: Sendable {
    /// The issuer URL; discovery is `issuer + /.well-known/openid-configuration`.
    public var issuer: String
    public var clientID: String
    public var clientSecret: SecretSource
    /// An extra trust root for reaching the IdP.
    public var caFile: String?
    public var scopes: [String]
    public var claims: ClaimNames
    public var clockSkew: Duration
    /// `amr` values that count as a second factor.
    public var mfaMethods: Set<String>
    /// `acr` values that count as a second factor.
    public var mfaACRValues: Set<String>
    public var userInfo: UserInfoMode
    /// The provider is authoritative for email: its addresses count as verified even without
    /// `email_verified` (providers that never send it; a claim other than `email`).
    public var trustEmail: Bool
    /// How often each signed-in user's groups and claims are refreshed with their refresh token.
    public var refreshInterval: Duration
    /// The key refresh tokens are encrypted with at rest; without it none are kept.
    public var refreshTokenKey: SecretSource?
    /// `backchannel_allowed_networks`: where the IdP's back-channel logout calls may come from,
    /// instead of the tenant greenlist; `nil`: any address (the logout token is signed).
    public var backchannelAllowedNetworks: [IPRange]?

    public init(
        issuer: String,
        clientID: String,
        clientSecret: SecretSource,
        caFile: String? = nil,
        scopes: [String] = ["openid", "email", "profile"],
        claims: ClaimNames = ClaimNames(),
        clockSkew: Duration = .seconds(60),
        mfaMethods: Set<String> = ["mfa", "otp", "hwk", "swk", "fpt", "face", "sc"],
        mfaACRValues: Set<String> = [],
        userInfo: UserInfoMode = .auto,
        trustEmail: Bool = false,
        refreshInterval: Duration = .seconds(3_600),
        refreshTokenKey: SecretSource? = nil,
        backchannelAllowedNetworks: [IPRange]? = nil
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.caFile = caFile
        self.scopes = scopes
        self.claims = claims
        self.clockSkew = clockSkew
        self.mfaMethods = mfaMethods
        self.mfaACRValues = mfaACRValues
        self.userInfo = userInfo
        self.trustEmail = trustEmail
        self.refreshInterval = refreshInterval
        self.refreshTokenKey = refreshTokenKey
        self.backchannelAllowedNetworks = backchannelAllowedNetworks
    }
}

/// Which claims hold what.
public struct ClaimNames: Hashable, Sendable {
    public var groups: String
    public var department: String
    public var name: String
    public var email: String

    public init(groups: String = "groups", department: String = "department", name: String = "name", email: String = "email") {
        self.groups = groups
        self.department = department
        self.name = name
        self.email = email
    }
}

/// `identity.bearer:` — bearer JWTs from the same issuer.
public struct BearerConfiguration: Sendable {
    public var audiences: [String]

    public init(audiences: [String]) {
        self.audiences = audiences
    }
}

/// `identity.scim:` — the SCIM 2.0 endpoint and its bearer token.
public struct SCIMConfiguration: Sendable {
    public var token: SecretSource
    /// `allowed_networks`: where the IdP's SCIM calls may come from, instead of the tenant
    /// greenlist; `nil`: any address (the calls carry the bearer token).
    public var allowedNetworks: [IPRange]?

    public init(token: SecretSource, allowedNetworks: [IPRange]? = nil) {
        self.token = token
        self.allowedNetworks = allowedNetworks
    }
}
