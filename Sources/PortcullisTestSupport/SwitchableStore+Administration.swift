import Foundation
import PortcullisCore

extension SwitchableStore {
    public func activeSessions(now: Date, limit: Int) async throws -> [SessionRecord] {
        try enter("activeSessionsAll")
        return try await base.activeSessions(now: now, limit: limit)
    }

    public func replaceSharedSecret(named name: String, expected: [UInt8], with value: [UInt8]) async throws -> Bool {
        try enter("replaceSharedSecret")
        return try await base.replaceSharedSecret(named: name, expected: expected, with: value)
    }

    public func teammates(matching query: TeammateQuery) async throws -> [UserIdentity] {
        try enter("teammates")
        return try await base.teammates(matching: query)
    }

    public func changeUserRoles(
        userID: String, audit: AuditContext, decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        try enter("changeUserRoles")
        return try await base.changeUserRoles(userID: userID, audit: audit, decide: decide)
    }

    public func changeGroupRoles(
        name: String, source: GroupSource, audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment?, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>? {
        try enter("changeGroupRoles")
        return try await base.changeGroupRoles(name: name, source: source, audit: audit, decide: decide)
    }

    public func roleHolders() async throws -> RoleHolders {
        try enter("roleHolders")
        return try await base.roleHolders()
    }

    public func groups() async throws -> [GroupSummary] {
        try enter("groups")
        return try await base.groups()
    }

    public func group(named name: String) async throws -> GroupSummary? {
        try enter("group")
        return try await base.group(named: name)
    }

    public func ensureUser(email: String, at: Date) async throws -> UserRecord {
        try enter("ensureUser")
        return try await base.ensureUser(email: email, at: at)
    }

    public func bootstrapSuperAdmin(userID: String, force: Bool, audit: AuditContext) async throws -> Bool {
        try enter("bootstrapSuperAdmin")
        return try await base.bootstrapSuperAdmin(userID: userID, force: force, audit: audit)
    }

    public func setDefaultMemberPermissions(_ permissions: DefaultMemberPermissions, expectedVersion: Int?, audit: AuditContext) async throws -> Int {
        try enter("setDefaultMemberPermissions")
        return try await base.setDefaultMemberPermissions(permissions, expectedVersion: expectedVersion, audit: audit)
    }

    public func changeFeatureFlags(
        expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (FlagChangeState) -> Result<(FeatureFlags, FlagChangeImpact), RoleChangeRefusal>
    ) async throws -> Result<Versioned<FeatureFlags>, RoleChangeRefusal> {
        try enter("changeFeatureFlags")
        return try await base.changeFeatureFlags(expectedVersion: expectedVersion, audit: audit, decide: decide)
    }

    public func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int) {
        try enter("signOutEverywhere")
        return try await base.signOutEverywhere(userID: userID, includeAPITokens: includeAPITokens, reason: reason, audit: audit)
    }

    public func insertAPIToken(_ token: APITokenRecord, secretHash: [UInt8], audit: AuditContext) async throws {
        try enter("insertAPIToken")
        try await base.insertAPIToken(token, secretHash: secretHash, audit: audit)
    }

    public func apiTokens(ownerID: String?) async throws -> [APITokenRecord] {
        try enter("apiTokens")
        return try await base.apiTokens(ownerID: ownerID)
    }

    public func apiToken(id: String) async throws -> APITokenRecord? {
        try enter("apiToken")
        return try await base.apiToken(id: id)
    }

    public func apiTokenIdentity(secretHash: [UInt8]) async throws -> APITokenIdentity? {
        try enter("apiTokenIdentity")
        return try await base.apiTokenIdentity(secretHash: secretHash)
    }

    public func revokeAPIToken(id: String, audit: AuditContext) async throws -> Bool {
        try enter("revokeAPIToken")
        return try await base.revokeAPIToken(id: id, audit: audit)
    }

    public func recordAPITokenUse(id: String, at: Date) async throws {
        try enter("recordAPITokenUse")
        try await base.recordAPITokenUse(id: id, at: at)
    }

    public func recordActAs(tokenID: String, targetEmail: String, ownerEmail: String, audit: AuditContext) async throws {
        try enter("recordActAs")
        try await base.recordActAs(tokenID: tokenID, targetEmail: targetEmail, ownerEmail: ownerEmail, audit: audit)
    }

    public func saveRefreshToken(userID: String, sealed: [UInt8], at: Date) async throws {
        try enter("saveRefreshToken")
        try await base.saveRefreshToken(userID: userID, sealed: sealed, at: at)
    }

    public func refreshToken(userID: String) async throws -> StoredRefreshToken? {
        try enter("refreshToken")
        return try await base.refreshToken(userID: userID)
    }

    public func refreshTokensDue(refreshedBefore: Date, now: Date, limit: Int) async throws -> [StoredRefreshToken] {
        try enter("refreshTokensDue")
        return try await base.refreshTokensDue(refreshedBefore: refreshedBefore, now: now, limit: limit)
    }

    public func deleteRefreshToken(userID: String) async throws {
        try enter("deleteRefreshToken")
        try await base.deleteRefreshToken(userID: userID)
    }

    public func refreshDirectoryProfile(
        userID: String, name: String?, department: String?, groups: [String]?, at: Date
    ) async throws -> (before: [String], after: [String])? {
        try enter("refreshDirectoryProfile")
        return try await base.refreshDirectoryProfile(userID: userID, name: name, department: department, groups: groups, at: at)
    }

    public func countGroupMemberships(from policy: GroupSourcePolicy) {
        base.countGroupMemberships(from: policy)
    }

    public func departments() async throws -> [String] {
        try enter("departments")
        return try await base.departments()
    }

    public func storedGreenlists() async throws -> [String: Greenlist] {
        try enter("storedGreenlists")
        return try await base.storedGreenlists()
    }

    public func putGreenlist(_ list: Greenlist, audit: AuditContext) async throws {
        try enter("putGreenlist")
        try await base.putGreenlist(list, audit: audit)
    }

    public func deleteGreenlist(named name: String, audit: AuditContext) async throws -> Bool {
        try enter("deleteGreenlist")
        return try await base.deleteGreenlist(named: name, audit: audit)
    }

    public func tenantGreenlist() async throws -> String? {
        try enter("tenantGreenlist")
        return try await base.tenantGreenlist()
    }

    public func setTenantGreenlist(_ name: String?, audit: AuditContext) async throws {
        try enter("setTenantGreenlist")
        try await base.setTenantGreenlist(name, audit: audit)
    }

    @discardableResult
    public func appendAudit(_ event: AuditEvent) async throws -> AuditEntry {
        try enter("appendAudit")
        return try await base.appendAudit(event)
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try enter("auditEntries")
        return try await base.auditEntries(query)
    }

    public func auditLog() async throws -> [AuditEntry] {
        try enter("auditLog")
        return try await base.auditLog()
    }

    public func verifyAuditLog() async throws -> AuditVerification {
        try enter("verifyAuditLog")
        return try await base.verifyAuditLog()
    }

    public func latestAuditSequence() async throws -> Int64 {
        try enter("latestAuditSequence")
        return try await base.latestAuditSequence()
    }

    public func exportAuditLog() async throws -> [String] {
        try enter("exportAuditLog")
        return try await base.exportAuditLog()
    }
}
