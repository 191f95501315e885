import Foundation
import PortcullisCore

extension SwitchableStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try enter("provisionUser")
        return try await base.provisionUser(user, audit: audit)
    }

    public func updateProvisionedUser(
        id: String, _ user: ProvisionedUser, expectedVersion: Int?, audit: AuditContext
    ) async throws -> (UserRecord, DeprovisioningOutcome)? {
        try enter("updateProvisionedUser")
        return try await base.updateProvisionedUser(id: id, user, expectedVersion: expectedVersion, audit: audit)
    }

    public func deleteProvisionedUser(id: String, expectedVersion: Int?, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        try enter("deleteProvisionedUser")
        return try await base.deleteProvisionedUser(id: id, expectedVersion: expectedVersion, audit: audit)
    }

    public func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int) {
        try enter("provisionedUsers")
        return try await base.provisionedUsers(offset: offset, limit: limit)
    }

    public func provisionGroup(_ draft: GroupDraft, audit: AuditContext) async throws -> ProvisionedGroup {
        try enter("provisionGroup")
        return try await base.provisionGroup(draft, audit: audit)
    }

    public func updateProvisionedGroup(
        id: String, _ draft: GroupDraft, expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<ProvisionedGroup, RoleChangeRefusal>? {
        try enter("updateProvisionedGroup")
        return try await base.updateProvisionedGroup(id: id, draft, expectedVersion: expectedVersion, audit: audit, decide: decide)
    }

    public func deleteProvisionedGroup(
        id: String, expectedVersion: Int?, audit: AuditContext, decide: @escaping @Sendable (MembershipChangeState) -> RoleChangeRefusal?
    ) async throws -> Result<Void, RoleChangeRefusal>? {
        try enter("deleteProvisionedGroup")
        return try await base.deleteProvisionedGroup(id: id, expectedVersion: expectedVersion, audit: audit, decide: decide)
    }

    public func provisionedGroup(id: String) async throws -> ProvisionedGroup? {
        try enter("provisionedGroup")
        return try await base.provisionedGroup(id: id)
    }

    public func provisionedGroups(offset: Int, limit: Int) async throws -> (groups: [ProvisionedGroup], total: Int) {
        try enter("provisionedGroups")
        return try await base.provisionedGroups(offset: offset, limit: limit)
    }
}
