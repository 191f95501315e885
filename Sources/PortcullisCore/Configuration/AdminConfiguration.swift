/// `admin:` — what the admin API and console ask of a signed-in caller (issue 21 item 6).
public struct AdminConfiguration: Hashable, Sendable {
    /// `require_mfa`: every admin API call from a session or bearer JWT needs a credential that
    /// proved a second factor; without one the caller is sent to sign in with MFA.
    public var requireMFA: Bool
    /// `max_auth_age`: a call that changes something (roles, group mappings, API tokens,
    /// greenlists, settings, sessions) needs a sign-in at the identity provider at most this old;
    /// an older one is sent through a fresh sign-in (`prompt=login`, `max_age`). `nil`: any age.
    public var maxAuthAge: Duration?

    public init(requireMFA: Bool = false, maxAuthAge: Duration? = nil) {
        self.requireMFA = requireMFA
        self.maxAuthAge = maxAuthAge
    }
}
