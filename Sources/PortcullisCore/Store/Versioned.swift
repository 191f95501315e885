/// A setting with the version it was read at: changes are compare-and-set on it, so that two
/// admins cannot silently overwrite each other (SPEC §1.4 safety rails).
public struct Versioned<Value: Hashable & Sendable>: Hashable, Sendable {
    public var value: Value
    /// 0 until the setting is first written.
    public var version: Int

    public init(_ value: Value, version: Int) {
        self.value = value
        self.version = version
    }
}

/// A compare-and-set write refused because the value changed since it was read: 409
/// `conflict` in the admin API, 412 for SCIM's `If-Match`.
public struct StoreVersionConflict: Error, Hashable, Sendable, CustomStringConvertible {
    public let expected: Int
    public let current: Int

    public init(expected: Int, current: Int) {
        self.expected = expected
        self.current = current
    }

    public var description: String { "expected version \(expected), found \(current)" }
}

/// A write naming records that do not exist (SCIM members that are not users).
public struct StoreUnknownReferences: Error, Hashable, Sendable, CustomStringConvertible {
    public let ids: [String]

    public init(_ ids: [String]) {
        self.ids = ids
    }

    public var description: String { "unknown ids: " + ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "") }
}

/// The state a feature-flag change is decided on, read inside the transaction that writes it.
public struct FlagChangeState: Hashable, Sendable {
    public var current: Versioned<FeatureFlags>
    /// Active users with their groups.
    public var users: [UserIdentity]
    /// Principals holding roles under the current flags.
    public var holders: RoleHolders

    public init(current: Versioned<FeatureFlags>, users: [UserIdentity], holders: RoleHolders) {
        self.current = current
        self.users = users
        self.holders = holders
    }
}

/// The state a SCIM membership change is decided on, read inside its transaction: the group
/// as it is, the users leaving its SCIM membership (with their groups as they are now), and the
/// role holders.
public struct MembershipChangeState: Hashable, Sendable {
    public var group: GroupRecord
    public var losing: [UserIdentity]
    public var holders: RoleHolders
    /// The group row goes away (SCIM DELETE of a group nothing else keeps).
    public var groupDeleted: Bool

    public init(group: GroupRecord, losing: [UserIdentity], holders: RoleHolders, groupDeleted: Bool) {
        self.group = group
        self.losing = losing
        self.holders = holders
        self.groupDeleted = groupDeleted
    }
}
