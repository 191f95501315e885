/// Who may dismiss a suspicious-session flag (`POST /sessions/flags/{id}/dismiss`): anyone with
/// `teammates.sign_out_sessions` on anyone's session, except a super admin's, whose flags only a
/// super admin may dismiss. A dismissal can end a super admin's step-up, so an admin dismissing
/// it would let a session that may belong to someone else go on with `super_admin`: the same
/// rule that stops an admin from changing a super admin's roles.
public enum SessionFlagDismissal {
    /// What a dismissal is decided on, read inside the transaction that writes it: the flag and
    /// the session's owner as they are now (`nil` when the owner is gone).
    public struct State: Hashable, Sendable {
        public var flag: SessionFlag
        public var owner: UserIdentity?

        public init(flag: SessionFlag, owner: UserIdentity?) {
            self.flag = flag
            self.owner = owner
        }
    }

    /// `nil` when the actor may dismiss the flag; otherwise 403 `super_admin_protected`.
    public static func decide(actorIsSuperAdmin: Bool, _ state: State) -> RoleChangeRefusal? {
        guard !actorIsSuperAdmin, let owner = state.owner, owner.effectiveRole.primary == .superAdmin else { return nil }
        return RoleChangeRefusal(
            code: .superAdminProtected, role: .primary(.superAdmin),
            message: "the session belongs to \(owner.user.email), a super admin; only a super admin may dismiss its flags"
        )
    }
}
