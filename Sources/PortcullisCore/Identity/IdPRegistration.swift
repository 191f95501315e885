/// What to register at the identity provider for this gateway (`portcullis idp-registration`,
/// issue 28 item 2): the URIs it serves, the scopes it asks for and the claims it reads, all
/// from the configuration, so what the operator types into the provider's console is what the
/// gateway will use.
public struct IdPRegistration: Codable, Hashable, Sendable {
    public var issuer: String
    public var clientID: String
    /// Where the provider sends the browser back with the code.
    public var redirectURI: String
    /// Where the provider sends the browser after RP-initiated logout.
    public var postLogoutRedirectURI: String
    /// Where the provider POSTs logout tokens (OpenID Connect Back-Channel Logout 1.0); the
    /// gateway reads `sid` when the token carries one.
    public var backchannelLogoutURI: String
    public var scopes: [String]
    /// A claim the gateway reads, and what for.
    public struct Claim: Codable, Hashable, Sendable {
        public var purpose: String
        public var claim: String
    }

    /// The claims the gateway reads.
    public var claims: [Claim]
    /// The SCIM 2.0 base URL, when `identity.scim` is configured; the bearer token is the
    /// secret it names.
    public var scimBaseURL: String?
    public var scimToken: String?

    /// `nil` when the configuration names no OIDC provider.
    public init?(_ configuration: GatewayConfiguration) {
        guard let oidc = configuration.identity.oidc else { return nil }
        let origin = configuration.server.publicURL.origin
        issuer = oidc.issuer
        clientID = oidc.clientID
        redirectURI = origin + "/_portcullis/callback"
        postLogoutRedirectURI = origin + "/_portcullis/signed-out"
        backchannelLogoutURI = origin + "/_portcullis/backchannel-logout"
        scopes = oidc.scopes
        claims = [
            ("email", oidc.claims.email), ("email verified", "email_verified"), ("display name", oidc.claims.name),
            ("groups", oidc.claims.groups), ("department", oidc.claims.department), ("MFA methods", "amr"),
            ("authentication context", "acr"), ("IdP session (back-channel logout)", "sid"),
        ].map { Claim(purpose: $0.0, claim: $0.1) }
        scimBaseURL = configuration.identity.scim.map { _ in origin + "/_portcullis/scim/v2" }
        scimToken = configuration.identity.scim.map { "\($0.token)" }
    }

    /// Providers with a section of their own: where each value goes in their console.
    public enum Provider: String, CaseIterable, Sendable {
        case generic, entra, okta, google, keycloak
    }

    /// The registration as text for `provider`: the values, then the provider's own steps.
    public func text(for provider: Provider) -> String {
        var lines = [
            "Register Portcullis as a confidential web application: authorization code flow with PKCE (S256),",
            "client authentication client_secret_basic, ID tokens signed with RS256, PS256, ES256 or EdDSA.",
            "",
            "  issuer (identity.oidc.issuer)          \(issuer)",
            "  client ID (identity.oidc.client_id)    \(clientID)",
            "  redirect URI                           \(redirectURI)",
            "  post-logout redirect URI               \(postLogoutRedirectURI)",
            "  back-channel logout URI                \(backchannelLogoutURI)",
            "  scopes                                 \(scopes.joined(separator: " "))",
            "  claims read (ID token or UserInfo):",
        ]
        for claim in claims {
            let purpose = claim.purpose + String(repeating: " ", count: max(1, 37 - claim.purpose.count))
            lines.append("    \(purpose)\(claim.claim)")
        }
        if let scimBaseURL, let scimToken {
            lines += ["  SCIM 2.0 base URL                      \(scimBaseURL)", "  SCIM bearer token                      the secret in \(scimToken)"]
        } else {
            lines.append("  SCIM                                   not configured (identity.scim)")
        }
        lines.append("")
        lines += steps(for: provider)
        return lines.joined(separator: "\n") + "\n"
    }

    private func steps(for provider: Provider) -> [String] {
        let groups = claims.first { $0.purpose == "groups" }?.claim ?? "groups"
        switch provider {
        case .generic:
            return [
                "Generic OpenID Connect provider:",
                "- register the redirect URI exactly (scheme, host, port and path); no wildcards;",
                "- register the post-logout redirect URI for RP-initiated logout, and the back-channel logout URI",
                "  if the provider sends logout tokens (ask for sid in them: \"session required\");",
                "- have the ID token or UserInfo carry \(groups) as a list of group names, and email_verified;",
                "- put the client secret in the file or variable identity.oidc.client_secret_file/_env names.",
            ]
        case .entra:
            return [
                "Microsoft Entra ID (App registrations > New registration):",
                "- Platform \"Web\", Redirect URI: \(redirectURI);",
                "- Authentication: no implicit grant; \"Front-channel logout URL\" is not used by Portcullis (Entra ID",
                "  sends no back-channel logout tokens): sign-outs at Entra reach Portcullis through SCIM",
                "  deprovisioning and sessions.max_staleness, or the gateway's own sign-out-all;",
                "- Certificates & secrets: a client secret, into identity.oidc.client_secret_file;",
                "- Token configuration: add the groups claim (security groups; emit names, e.g. sAMAccountName,",
                "  or map group object IDs in Portcullis), and the optional claims email and acr if needed;",
                "- issuer: https://login.microsoftonline.com/<tenant-id>/v2.0;",
                "- Enterprise applications > Provisioning (SCIM): Tenant URL \(scimBaseURL ?? "(configure identity.scim)"),",
                "  Secret Token: the SCIM bearer token.",
            ]
        case .okta:
            return [
                "Okta (Applications > Create App Integration > OIDC, Web Application):",
                "- Grant type: Authorization Code; Sign-in redirect URIs: \(redirectURI);",
                "- Sign-out redirect URIs: \(postLogoutRedirectURI);",
                "- Client authentication: client secret, into identity.oidc.client_secret_file;",
                "- Sign On > OpenID Connect ID Token: Groups claim type \"Filter\", claim name \(groups), the filter",
                "  that selects the groups Portcullis maps to roles;",
                "- where the integration offers back-channel logout, its URI is \(backchannelLogoutURI);",
                "- issuer: https://<your-okta-domain>/oauth2/default (or your authorization server);",
                "- Provisioning (SCIM 2.0): base URL \(scimBaseURL ?? "(configure identity.scim)"), HTTP Header auth",
                "  with the SCIM bearer token.",
            ]
        case .google:
            return [
                "Google (Google Cloud console > APIs & Services > Credentials > OAuth client ID, Web application):",
                "- Authorized redirect URIs: \(redirectURI);",
                "- Google's ID tokens carry no groups claim, send no back-channel logout and do not provision",
                "  over SCIM: give roles to people directly in Portcullis, or sync groups another way;",
                "- issuer: https://accounts.google.com; the hd claim names the Workspace domain.",
            ]
        case .keycloak:
            return [
                "Keycloak (Clients > Create client, OpenID Connect):",
                "- Client authentication on, Standard flow on, Direct access grants off;",
                "- Valid redirect URIs: \(redirectURI); Valid post logout redirect URIs: \(postLogoutRedirectURI);",
                "- Backchannel logout URL: \(backchannelLogoutURI), Backchannel logout session required on;",
                "- Advanced: Proof Key for Code Exchange Code Challenge Method S256;",
                "- Client scopes > dedicated scope > Add mapper \"Group Membership\": Token Claim Name \(groups),",
                "  Full group path off, added to the ID token and UserInfo;",
                "- Credentials: the client secret, into identity.oidc.client_secret_file;",
                "- issuer: https://<keycloak-host>/realms/<realm>.",
            ]
        }
    }
}
