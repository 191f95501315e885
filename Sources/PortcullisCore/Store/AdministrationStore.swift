#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a role change is decided on, read inside the transaction that writes it, so that two
/// admins removing the last two holders of a role at once cannot both succeed.
public struct RoleChangeState: Hashable, Sendable {
    public var user: UserIdentity?
    public var group: GroupRecord?
    public var holders: RoleHolders
    public var mappedGroupCount: Int

    public init(user: UserIdentity? = nil, group: GroupRecord? = nil, holders: RoleHolders, mappedGroupCount: Int) {
        self.user = user
        self.group = group
        self.holders = holders
        self.mappedGroupCount = mappedGroupCount
    }
}

/// A role change that was made: the assignment before and after.
public struct RoleChangeOutcome: Hashable, Sendable {
    public var before: RoleAssignment?
    public var after: RoleAssignment?

    public init(before: RoleAssignment?, after: RoleAssignment?) {
        self.before = before
        self.after = after
    }
}

/// `GET /teammates`: text and department filters the store applies; role filters need the
/// effective role and are applied by the caller.
public struct TeammateQuery: Hashable, Sendable {
    /// Matches email or name, without case.
    public var text: String?
    public var department: String?

    public init(text: String? = nil, department: String? = nil) {
        self.text = text
        self.department = department
    }
}

/// A group with the number of its members, for `GET /groups`.
public struct GroupSummary: Hashable, Sendable {
    public var group: GroupRecord
    /// People who are members through any source.
    public var memberCount: Int
    /// Memberships through each source: which source a mapping for the group would count for.
    public var membersBySource: [GroupSource: Int]

    public init(group: GroupRecord, memberCount: Int, membersBySource: [GroupSource: Int] = [:]) {
        self.group = group
        self.memberCount = memberCount
        self.membersBySource = membersBySource
    }
}

/// The administrative writes of SPEC §1.4 and §6. Every one is written together with its audit
/// entry, in one transaction.
public protocol AdministrationStore: Sendable {
    /// Decides and writes a user's direct roles atomically: `decide` sees the current state and
    /// answers the new direct assignment or a refusal. `nil` when the user does not exist.
    func changeUserRoles(
        userID: String,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>?
    /// The same for a group's mapping for one source of membership (`nil` removes it); any
    /// change clears the group's review marks (``GroupRecord/mappingsToReview``). A group that
    /// does not exist yet is created when the decision maps roles to it (it fills up when SCIM
    /// or a sign-in names it). `nil` when the group does not exist and the decision maps nothing.
    func changeGroupRoles(
        name: String,
        source: GroupSource,
        audit: AuditContext,
        decide: @escaping @Sendable (RoleChangeState) -> Result<RoleAssignment?, RoleChangeRefusal>
    ) async throws -> Result<RoleChangeOutcome, RoleChangeRefusal>?
    func roleHolders() async throws -> RoleHolders
    func groups() async throws -> [GroupSummary]
    func group(named name: String) async throws -> GroupSummary?
    /// Creates (or finds) a user by email: for `admin bootstrap`, before their first login.
    func ensureUser(email: String, at: Date) async throws -> UserRecord
    /// Makes the user a super admin, unless one exists and `force` is false. Answers false when
    /// refused. Audited as `admin.bootstrap`.
    func bootstrapSuperAdmin(userID: String, force: Bool, audit: AuditContext) async throws -> Bool
    /// Writes the switches if the stored version is still `expectedVersion` (`nil`: whatever it
    /// is), answering the new version; throws ``StoreVersionConflict`` otherwise.
    func setDefaultMemberPermissions(_ permissions: DefaultMemberPermissions, expectedVersion: Int?, audit: AuditContext) async throws -> Int
    /// Decides and writes the feature flags atomically, compare-and-set on `expectedVersion`:
    /// `decide` sees every active user with their groups and the role holders, and answers the
    /// new flags (with what they do to roles, for the audit) or a refusal.
    func changeFeatureFlags(
        expectedVersion: Int?, audit: AuditContext,
        decide: @escaping @Sendable (FlagChangeState) -> Result<(FeatureFlags, FlagChangeImpact), RoleChangeRefusal>
    ) async throws -> Result<Versioned<FeatureFlags>, RoleChangeRefusal>
    /// "Sign out of all sessions": revokes every session, sets the not-before instant that
    /// refuses earlier bearer JWTs and, when asked, revokes the user's API tokens.
    func signOutEverywhere(
        userID: String, includeAPITokens: Bool, reason: String, audit: AuditContext
    ) async throws -> (sessions: [SessionIDHash], tokens: Int)
}

/// API tokens (SPEC §2): stored by the SHA-256 of the secret.
public protocol APITokenStore: Sendable {
    func insertAPIToken(_ token: APITokenRecord, secretHash: [UInt8], audit: AuditContext) async throws
    /// Tokens of one owner, or all when `ownerID` is nil; newest first, revoked ones included.
    func apiTokens(ownerID: String?) async throws -> [APITokenRecord]
    func apiToken(id: String) async throws -> APITokenRecord?
    /// False when there was no such unrevoked token.
    func revokeAPIToken(id: String, audit: AuditContext) async throws -> Bool
}

/// A refresh token kept for a user, sealed (encrypted and authenticated) by the caller.
public struct StoredRefreshToken: Hashable, Sendable {
    public var userID: String
    public var sealed: [UInt8]
    public var refreshedAt: Date

    public init(userID: String, sealed: [UInt8], refreshedAt: Date) {
        self.userID = userID
        self.sealed = sealed
        self.refreshedAt = refreshedAt
    }
}

/// Refresh tokens from the IdP (SPEC §2: groups and claims refreshed in the background). The
/// store only ever sees them sealed.
public protocol IdentityGrantStore: Sendable {
    /// Keeps (or replaces) the user's refresh token, marking it refreshed at `at`.
    func saveRefreshToken(userID: String, sealed: [UInt8], at: Date) async throws
    func refreshToken(userID: String) async throws -> StoredRefreshToken?
    /// Tokens of active users with at least one live session, last refreshed before
    /// `refreshedBefore`, oldest first.
    func refreshTokensDue(refreshedBefore: Date, now: Date, limit: Int) async throws -> [StoredRefreshToken]
    func deleteRefreshToken(userID: String) async throws
}

extension AdministrationStore {
    /// Unconditional writes, for the command line and tests.
    public func setDefaultMemberPermissions(_ permissions: DefaultMemberPermissions, audit: AuditContext) async throws {
        _ = try await setDefaultMemberPermissions(permissions, expectedVersion: nil, audit: audit)
    }

    public func setFeatureFlags(_ flags: FeatureFlags, audit: AuditContext) async throws {
        _ = try await changeFeatureFlags(expectedVersion: nil, audit: audit) { _ in .success((flags, FlagChangeImpact())) }
    }
}

/// The greenlists managed through the admin API and the tenant-wide greenlist chosen there,
/// as the access policy reads them.
public protocol GreenlistSource: Sendable {
    func storedGreenlists() async throws -> [String: Greenlist]
    /// The tenant-wide greenlist chosen through the API (the configuration's wins when set).
    func tenantGreenlist() async throws -> String?
}

/// Greenlists managed through the admin API (config-declared ones are read-only) and the
/// tenant-wide greenlist setting.
public protocol GreenlistStore: GreenlistSource {
    func putGreenlist(_ list: Greenlist, audit: AuditContext) async throws
    /// False when there was no such list.
    func deleteGreenlist(named name: String, audit: AuditContext) async throws -> Bool
    func setTenantGreenlist(_ name: String?, audit: AuditContext) async throws
}

/// The append-only, hash-chained audit log (SPEC §7).
public protocol AuditStore: Sendable {
    /// Appends one entry (for changes with no other store write).
    @discardableResult
    func appendAudit(_ event: AuditEvent) async throws -> AuditEntry
    /// Newest first, filtered.
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
    /// Every entry in chain order.
    func auditLog() async throws -> [AuditEntry]
    /// Every entry's stored JSON text in chain order, exactly as hashed: the SHA-256 of each
    /// line is the next line's `previous_hash`, so an export can be checked offline.
    func exportAuditLog() async throws -> [String]
    /// Recomputes the chain from the stored rows.
    func verifyAuditLog() async throws -> AuditVerification
    /// The newest entry's sequence number (0 for an empty log). Every administrative change is
    /// audited, so a change of this number means "something changed": instances that get no
    /// broadcast (SQLite, changes made by the CLI) watch it.
    func latestAuditSequence() async throws -> Int64
}
