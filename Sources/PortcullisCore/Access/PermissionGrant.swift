/// Who holds one permission: one row of the matrix in SPEC §1.3.
public struct PermissionGrant: Hashable, Sendable {
    /// Primary roles that always hold it.
    public let primaryRoles: Set<PrimaryRole>
    /// A default member permission: `member` and `setup_admin` hold it while its switch is on.
    public let isDefaultMemberPermission: Bool
    /// Secondary roles that grant it to anyone.
    public let secondaryRoles: Set<SecondaryRole>
    /// Admin-only: never granted to a member or setup admin by any secondary role.
    public let isAdminOnly: Bool

    public init(
        primaryRoles: Set<PrimaryRole>,
        isDefaultMemberPermission: Bool = false,
        secondaryRoles: Set<SecondaryRole> = [],
        isAdminOnly: Bool = false
    ) {
        self.primaryRoles = primaryRoles
        self.isDefaultMemberPermission = isDefaultMemberPermission
        self.secondaryRoles = secondaryRoles
        self.isAdminOnly = isAdminOnly
    }
}
