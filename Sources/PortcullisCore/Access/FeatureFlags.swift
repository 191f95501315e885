/// Tenant-wide switches kept in the store and changed through the admin API.
public struct FeatureFlags: Hashable, Sendable, Codable {
    /// When off, roles inherited from IdP groups are ignored; only direct assignments count.
    public var groupBasedPermissions: Bool

    public init(groupBasedPermissions: Bool = true) {
        self.groupBasedPermissions = groupBasedPermissions
    }

    public static let defaults = FeatureFlags()

    enum CodingKeys: String, CodingKey {
        case groupBasedPermissions = "group_based_permissions"
    }
}
