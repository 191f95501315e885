/// `identity:` — the OIDC provider, bearer JWTs and SCIM.
public struct IdentityConfiguration: Sendable {
    public var oidc: OIDCConfiguration?
    public var bearer: BearerConfiguration?
    public var scim: SCIMConfiguration?

    public init(oidc: OIDCConfiguration? = nil, bearer: BearerConfiguration? = nil, scim: SCIMConfiguration? = nil) {
        self.oidc = oidc
        self.bearer = bearer
        self.scim = scim
    }
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

    public init(
        issuer: String,
        clientID: String,
        clientSecret: SecretSource,
        caFile: String? = nil,
        scopes: [String] = ["openid", "email", "profile"],
        claims: ClaimNames = ClaimNames(),
        clockSkew: Duration = .seconds(60),
        mfaMethods: Set<String> = ["mfa", "otp", "hwk", "swk", "fpt", "face", "sc"],
        mfaACRValues: Set<String> = []
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

    public init(token: SecretSource) {
        self.token = token
    }
}
