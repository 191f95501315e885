#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A user as the IdP provisions them over SCIM (SPEC §2).
public struct ProvisionedUser: Hashable, Sendable {
    /// SCIM `userName`: the email the user signs in with.
    public var email: String
    public var name: String?
    public var department: String?
    public var active: Bool
    public var externalID: String?

    public init(email: String, name: String? = nil, department: String? = nil, active: Bool = true, externalID: String? = nil) {
        self.email = email
        self.name = name
        self.department = department
        self.active = active
        self.externalID = externalID
    }
}

/// A group with its members, as SCIM shows it.
public struct ProvisionedGroup: Hashable, Sendable {
    public var group: GroupRecord
    public var members: [UserRecord]

    public init(group: GroupRecord, members: [UserRecord]) {
        self.group = group
        self.members = members
    }
}

/// A write refused because it would duplicate a unique value (SCIM `uniqueness`, 409).
public struct StoreConflict: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What a provisioning write did to sessions and tokens: deactivating or deleting a user ends
/// all of them at once.
public struct DeprovisioningOutcome: Hashable, Sendable {
    public var revokedSessions: [SessionIDHash]
    public var revokedTokens: Int

    public init(revokedSessions: [SessionIDHash] = [], revokedTokens: Int = 0) {
        self.revokedSessions = revokedSessions
        self.revokedTokens = revokedTokens
    }

    public static let none = DeprovisioningOutcome()
}

/// SCIM 2.0 provisioning (RFC 7643/7644): users and groups from the IdP. Every write is audited
/// and announced; deactivation and deletion revoke sessions and API tokens in the same
/// transaction; membership changes apply to effective roles at once.
public protocol ProvisioningStore: Sendable {
    /// Throws ``StoreConflict`` when the email is taken.
    func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord
    /// Replaces the provisioned fields. `nil` when there is no such user.
    func updateProvisionedUser(id: String, _ user: ProvisionedUser, audit: AuditContext) async throws -> (UserRecord, DeprovisioningOutcome)?
    /// `nil` when there is no such user.
    func deleteProvisionedUser(id: String, audit: AuditContext) async throws -> DeprovisioningOutcome?
    /// Users by email, a page at a time; `total` counts all.
    func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int)
    /// Throws ``StoreConflict`` when the name is taken. Unknown member ids are ignored.
    func provisionGroup(name: String, externalID: String?, members: [String], audit: AuditContext) async throws -> ProvisionedGroup
    /// Replaces name, external id and members. `nil` when there is no such group.
    func replaceProvisionedGroup(id: String, name: String, externalID: String?, members: [String], audit: AuditContext) async throws -> ProvisionedGroup?
    /// Adds and removes members. `nil` when there is no such group.
    func changeGroupMembers(id: String, adding: [String], removing: [String], audit: AuditContext) async throws -> ProvisionedGroup?
    /// False when there was no such group.
    func deleteProvisionedGroup(id: String, audit: AuditContext) async throws -> Bool
    func provisionedGroup(id: String) async throws -> ProvisionedGroup?
    func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int)
}
