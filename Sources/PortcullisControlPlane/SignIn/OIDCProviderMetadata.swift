
/// The parts of an OpenID Provider's discovery document Portcullis uses.
package struct OIDCProviderMetadata: Codable, Hashable, Sendable {
    package let issuer: String
    package let authorizationEndpoint: String
    package let tokenEndpoint: String
    package let jwksURI: String
    package let userinfoEndpoint: String?
    package let endSessionEndpoint: String?
    package let codeChallengeMethodsSupported: [String]?
    package let tokenEndpointAuthMethodsSupported: [String]?
    package let backchannelLogoutSupported: Bool?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case userinfoEndpoint = "userinfo_endpoint"
        case endSessionEndpoint = "end_session_endpoint"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case backchannelLogoutSupported = "backchannel_logout_supported"
    }

    package init(
        issuer: String, authorizationEndpoint: String, tokenEndpoint: String, jwksURI: String,
        userinfoEndpoint: String? = nil, endSessionEndpoint: String? = nil,
        codeChallengeMethodsSupported: [String]? = ["S256"], tokenEndpointAuthMethodsSupported: [String]? = nil,
        backchannelLogoutSupported: Bool? = nil
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.jwksURI = jwksURI
        self.userinfoEndpoint = userinfoEndpoint
        self.endSessionEndpoint = endSessionEndpoint
        self.codeChallengeMethodsSupported = codeChallengeMethodsSupported
        self.tokenEndpointAuthMethodsSupported = tokenEndpointAuthMethodsSupported
        self.backchannelLogoutSupported = backchannelLogoutSupported
    }
}

/// The token endpoint's answer to an authorization-code exchange or a refresh.
package struct OIDCTokenResponse: Decodable, Sendable {
    package let idToken: String?
    package let accessToken: String?
    package let refreshToken: String?
    package let tokenType: String?
    package let expiresIn: Double?

    enum CodingKeys: String, CodingKey {
        case idToken = "id_token"
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
    }
}
