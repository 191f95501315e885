#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A user as the IdP provisions them over SCIM (SPEC §2): the columns the gateway uses, and the
/// SCIM document they come from.
public struct ProvisionedUser: Hashable, Sendable {
    /// SCIM `userName`: the email the user signs in with.
    public var email: String
    public var name: String?
    public var department: String?
    public var active: Bool
    public var externalID: String?
    /// Every attribute the IdP sent that the schemas define, as kept (``SCIMDocument``).
    public var document: [String: JSONValue]

    public init(
        email: String, name: String? = nil, department: String? = nil, active: Bool = true, externalID: String? = nil,
        document: [String: JSONValue] = [:]
    ) {
        self.email = email
        self.name = name
        self.department = department
        self.active = active
        self.externalID = externalID
        self.document = document
    }
}

/// A group as SCIM writes it: its name, external id, description and SCIM members (user ids).
public struct GroupDraft: Hashable, Sendable {
    public var name: String
    public var externalID: String?
    public var description: String?
    public var members: [String]

    public init(name: String, externalID: String? = nil, description: String? = nil, members: [String] = []) {
        self.name = name
        self.externalID = externalID
        self.description = description
        self.members = members
    }
}

/// A group with its SCIM members, as SCIM shows it.
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
/// transaction; membership changes apply to effective roles at once. Writes that carry an
/// expected version are compare-and-set (``StoreVersionConflict``).
public protocol ProvisioningStore: Sendable {
    /// Throws ``StoreConflict`` when the email is taken (or a non-ASCII address folds onto an
    /// existing one).
    func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord
    /// Replaces the provisioned fields and the document. `nil` when there is no such user.
    func updateProvisionedUser(
        id: String, _ user: ProvisionedUser, expectedVersion: Int?, audit: AuditContext
    ) async throws -> (UserRecord, DeprovisioningOutcome)?
    /// `nil` when there is no such user.
    func deleteProvisionedUser(id: String, expectedVersion: Int?, audit: AuditContext) async throws -> DeprovisioningOutcome?
    /// Users by email, a page at a time; `total` counts all.
    func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int)
    /// Creates the group, or adopts a group of that name that SCIM does not manage yet (made by
    /// a role mapping or a sign-in's claims). Throws ``StoreConflict`` when SCIM already manages
    /// a group of that name, ``StoreUnknownReferences`` for members that are not users.
    func provisionGroup(_ draft: GroupDraft, audit: AuditContext) async throws -> ProvisionedGroup
    /// Replaces name, external id, description and the SCIM members, after `decide` accepted
    /// the members who leave. `nil` when SCIM manages no such group.
    func updateProvisionedGroup(
        id: String, _ draft: GroupDraft, expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<ProvisionedGroup, RoleChangeRefusal>?
    /// Ends SCIM's management of the group: its SCIM members leave (after `decide`). The group
    /// itself stays while a role mapping or sign-in memberships still name it, so that a
    /// mapping survives de- and re-provisioning. `nil` when SCIM manages no such group.
    func deleteProvisionedGroup(
        id: String, expectedVersion: Int?, audit: AuditContext, decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<Void, RoleChangeRefusal>?
    /// A group SCIM manages, with its SCIM members.
    func provisionedGroup(id: String) async throws -> ProvisionedGroup?
    /// The groups SCIM manages, by name, a page at a time.
    func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int)
}
