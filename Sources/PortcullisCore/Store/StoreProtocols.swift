#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sessions (SPEC §3). Revocations answer with the hashes they revoked, so that callers can
/// drop them from caches and broadcast them.
public protocol SessionStore: Sendable {
    func insertSession(_ session: SessionRecord) async throws
    func session(_ idHash: SessionIDHash) async throws -> SessionRecord?
    /// False when the session does not exist or was already revoked.
    func revokeSession(_ idHash: SessionIDHash, at: Date, by: String, reason: String) async throws -> Bool
    func revokeSessions(userID: String, at: Date, by: String, reason: String) async throws -> [SessionIDHash]
    /// Back-channel logout by the IdP's `sid`.
    func revokeSessions(idpSessionID: String, userID: String?, at: Date, reason: String) async throws -> [SessionIDHash]
    /// Sessions not revoked and not past their absolute expiry, newest first. (Idle expiry
    /// depends on configuration; callers filter with ``SessionRecord/isActive(at:idleTimeout:)``.)
    func activeSessions(userID: String, now: Date) async throws -> [SessionRecord]
    /// Every user's active sessions (as above), newest first, at most `limit`: for greenlist
    /// dry runs.
    func activeSessions(now: Date, limit: Int) async throws -> [SessionRecord]
    /// How many sessions are active: not revoked, not past their absolute expiry, and seen
    /// within `idleTimeout` (``SessionRecord/isActive(at:idleTimeout:)``), for the
    /// active-sessions metric.
    func countActiveSessions(now: Date, idleTimeout: Duration) async throws -> Int
    /// Deletes sessions that ended (revoked or expired) before the cut-off.
    func purgeSessions(endedBefore: Date) async throws -> Int
}

/// Users by id, email (ASCII case folded) or the IdP's subject.
public protocol UserLookupStore: Sendable {
    func user(id: String) async throws -> UserRecord?
    func user(email: String) async throws -> UserRecord?
    func user(subject: String) async throws -> UserRecord?
}

/// Users, groups and memberships.
public protocol DirectoryStore: UserLookupStore {
    /// Creates or updates the user from an SSO login. The user is found by subject; failing
    /// that, by email, linked only when the email is verified and the account is linked to no
    /// other subject. Throws ``LoginRefusal`` otherwise, and for a non-ASCII address that folds
    /// onto an existing one. When the profile names groups, they replace the user's `oidc`
    /// memberships (groups are created as needed); `scim` memberships are never touched.
    func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord
    /// A refresh or "sync now": replaces the user's `oidc` memberships (when `groups` is not
    /// `nil`) and updates name and department. Answers the group names before and after
    /// (every source), or `nil` when there is no such user.
    func refreshDirectoryProfile(
        userID: String, name: String?, department: String?, groups: [String]?, at: Date
    ) async throws -> (before: [String], after: [String])?
    /// Which memberships count for effective roles from now on (`identity.groups.source`).
    func countGroupMemberships(from policy: GroupSourcePolicy)
    /// The departments users have, without repeats, sorted.
    func departments() async throws -> [String]
    /// Users matching the query, each with groups and settings, ordered by email.
    func teammates(matching query: TeammateQuery) async throws -> [UserIdentity]
    /// The user's groups, with their role mappings.
    func groups(ofUser userID: String) async throws -> [GroupRecord]
    /// Refuse sessions and bearer tokens issued before this instant.
    func setNotBefore(userID: String, _ instant: Date) async throws
}

/// Values that may be used once: login `state`, logout-token `jti`, authorization codes.
public protocol OneTimeValueStore: Sendable {
    /// Records the value; false when it was recorded before and has not expired.
    func consumeOnce(kind: String, value: String, expiresAt: Date, now: Date) async throws -> Bool
}

/// Tenant-wide settings and shared secrets.
public protocol SettingsStore: Sendable {
    func defaultMemberPermissions() async throws -> DefaultMemberPermissions
    func featureFlags() async throws -> FeatureFlags
    /// The default member permissions with their version, for compare-and-set.
    func versionedDefaultMemberPermissions() async throws -> Versioned<DefaultMemberPermissions>
    /// The feature flags with their version, for compare-and-set.
    func versionedFeatureFlags() async throws -> Versioned<FeatureFlags>
}

/// Secrets shared by every instance on this store (signing keys, the login-state key).
public protocol SharedSecretStore: Sendable {
    /// A secret shared by every instance on this store, made by `create` on first use.
    func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8]
    /// Replaces a shared secret only if it still holds `expected` (compare-and-swap), so that
    /// two instances rotating at once do not lose each other's keys. False when it changed.
    func replaceSharedSecret(named name: String, expected: [UInt8], with value: [UInt8]) async throws -> Bool
}

/// Everything the request path needs to know about a session's user, read together.
public struct SessionIdentity: Hashable, Sendable {
    public var session: SessionRecord
    public var user: UserRecord
    public var groups: [GroupRecord]
    public var defaults: DefaultMemberPermissions
    public var flags: FeatureFlags

    public init(session: SessionRecord, user: UserRecord, groups: [GroupRecord], defaults: DefaultMemberPermissions, flags: FeatureFlags) {
        self.session = session
        self.user = user
        self.groups = groups
        self.defaults = defaults
        self.flags = flags
    }

    public var effectiveRole: EffectiveRole {
        EffectiveRole.resolve(direct: user.directRoles, groups: groups, flags: flags)
    }
}

/// A user's roles and the settings that turn them into permissions.
public struct UserIdentity: Hashable, Sendable {
    public var user: UserRecord
    public var groups: [GroupRecord]
    public var defaults: DefaultMemberPermissions
    public var flags: FeatureFlags

    public init(user: UserRecord, groups: [GroupRecord], defaults: DefaultMemberPermissions, flags: FeatureFlags) {
        self.user = user
        self.groups = groups
        self.defaults = defaults
        self.flags = flags
    }

    public var effectiveRole: EffectiveRole {
        EffectiveRole.resolve(direct: user.directRoles, groups: groups, flags: flags)
    }

    public var permissions: PermissionSet { effectiveRole.permissions(defaults: defaults) }
}

/// Reads for the request path, one round trip each.
public protocol IdentityStore: Sendable {
    func sessionIdentity(_ idHash: SessionIDHash) async throws -> SessionIdentity?
    func userIdentity(userID: String) async throws -> UserIdentity?
    func userIdentity(subject: String) async throws -> UserIdentity?
}

/// What the data path asks of the store for a request: a credential (session cookie, bearer
/// JWT, API token, act-as target) to an identity, and the little bookkeeping a request does.
/// The data path depends on this and nothing wider.
public protocol CredentialStore: IdentityStore, UserLookupStore {
    /// The token with this secret hash and its owner (revoked or not: the caller decides).
    func apiTokenIdentity(secretHash: [UInt8]) async throws -> APITokenIdentity?
    /// Last seen and last IP (written at most about once a minute per session by the caller).
    func recordSessionActivity(_ idHash: SessionIDHash, at: Date, ip: IPAddress, location: GeoLocation) async throws
    func recordAPITokenUse(id: String, at: Date) async throws
    /// One request of a `global` token acting as `targetEmail` (`X-Portcullis-Act-As`): audited,
    /// and counted on the token.
    func recordActAs(tokenID: String, targetEmail: String, ownerEmail: String, audit: AuditContext) async throws
}

/// The whole store, as the server assembles it: SQLite (one node) or PostgreSQL (several).
/// Everything else depends on the narrow protocols it uses (the data path on
/// ``CredentialStore``, SCIM on ``ProvisioningStore``, …).
public typealias GatewayStore = SessionStore & DirectoryStore & OneTimeValueStore & SettingsStore & SharedSecretStore
    & CredentialStore & AdministrationStore & APITokenStore & GreenlistStore & AuditStore & ProvisioningStore
    & IdentityGrantStore & SessionRiskStore

/// A store failure, with the operation that failed. Never carries secrets.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let reason: String

    public init(operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "store \(operation) failed: \(reason)" }
}
