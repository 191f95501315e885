import Foundation
import PortcullisCore

extension SwitchableStore {
    public func provisionUser(_ user: ProvisionedUser, audit: AuditContext) async throws -> UserRecord {
        try enter("provisionUser")
        return try await base.provisionUser(user, audit: audit)
    }

    public func updateProvisionedUser(id: String, _ user: ProvisionedUser, audit: AuditContext) async throws -> (UserRecord, DeprovisioningOutcome)? {
        try enter("updateProvisionedUser")
        return try await base.updateProvisionedUser(id: id, user, audit: audit)
    }

    public func deleteProvisionedUser(id: String, audit: AuditContext) async throws -> DeprovisioningOutcome? {
        try enter("deleteProvisionedUser")
        return try await base.deleteProvisionedUser(id: id, audit: audit)
    }

    public func provisionedUsers(offset: Int, limit: Int) async throws -> (users: [UserRecord], total: Int) {
        try enter("provisionedUsers")
        return try await base.provisionedUsers(offset: offset, limit: limit)
    }

    public func provisionGroup(name: String, externalID: String?, members: [String], audit: AuditContext) async throws -> ProvisionedGroup {
        try enter("provisionGroup")
        return try await base.provisionGroup(name: name, externalID: externalID, members: members, audit: audit)
    }

    public func replaceProvisionedGroup(
        id: String, name: String, externalID: String?, members: [String], audit: AuditContext
    ) async throws -> ProvisionedGroup? {
        try enter("replaceProvisionedGroup")
        return try await base.replaceProvisionedGroup(id: id, name: name, externalID: externalID, members: members, audit: audit)
    }

    public func changeGroupMembers(id: String, adding: [String], removing: [String], audit: AuditContext) async throws -> ProvisionedGroup? {
        try enter("changeGroupMembers")
        return try await base.changeGroupMembers(id: id, adding: adding, removing: removing, audit: audit)
    }

    public func deleteProvisionedGroup(id: String, audit: AuditContext) async throws -> Bool {
        try enter("deleteProvisionedGroup")
        return try await base.deleteProvisionedGroup(id: id, audit: audit)
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
