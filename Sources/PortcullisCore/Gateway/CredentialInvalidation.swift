/// The running gateway's remembered credentials (the data path's session cache and the answers
/// it reuses), as the control plane tells them what it changed. The server wires the data
/// path's `SessionCache` in; each call applies to the very next request.
package protocol CredentialInvalidation: Sendable {
    /// Forgets one session: it is read from the store again (signed out, revoked, flagged).
    func evict(_ session: SessionIDHash)
    /// Forgets every session of a user.
    func evict(userID: String)
    /// Something that feeds access decisions changed (a role, a mapping, a default member
    /// permission, a flag, a token): every remembered identity is read again.
    func policyDidChange()
}
