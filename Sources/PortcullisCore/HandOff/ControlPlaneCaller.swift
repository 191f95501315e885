import Foundation

/// Who called, as the data path verified it: the credential checked out and is neither revoked
/// nor expired. The control plane reads the user's roles afresh from the store.
package struct ControlPlaneCaller: Hashable, Sendable {
    package var userID: String
    package var method: AuthenticationMethod
    /// The session id's hash (hex) for cookie sessions, the token id for API tokens.
    package var credentialID: String?
    package var hasMFA: Bool
    /// The email of the owner of a `global` token acting as this user.
    package var delegatedBy: String?
    /// When the caller signed in at the identity provider (`auth_time`); `nil` when unknown.
    package var authenticatedAt: Date?

    package init(
        userID: String, method: AuthenticationMethod, credentialID: String?, hasMFA: Bool, delegatedBy: String? = nil,
        authenticatedAt: Date? = nil
    ) {
        self.userID = userID
        self.method = method
        self.credentialID = credentialID
        self.hasMFA = hasMFA
        self.delegatedBy = delegatedBy
        self.authenticatedAt = authenticatedAt
    }
}
