import Foundation
import PortcullisCore
import Synchronization

/// Wraps a real store: can be made to fail every call (the store is unreachable), and counts
/// calls, for tests of fail-closed behaviour and of write throttling.
public final class SwitchableStore: GatewayStore {
    public let base: any GatewayStore
    private let failing = Atomic<Bool>(false)
    private let counts = Mutex<[String: Int]>([:])

    public init(_ base: any GatewayStore) {
        self.base = base
    }

    public func setFailing(_ value: Bool) {
        failing.store(value, ordering: .sequentiallyConsistent)
    }

    public func count(_ operation: String) -> Int {
        counts.withLock { $0[operation] ?? 0 }
    }

    func enter(_ operation: String) throws {
        counts.withLock { $0[operation, default: 0] += 1 }
        if failing.load(ordering: .sequentiallyConsistent) {
            throw StoreError(operation: operation, reason: "unreachable (test)")
        }
    }

    public func insertSession(_ session: SessionRecord) async throws {
        try enter("insertSession")
        try await base.insertSession(session)
    }

    public func session(_ idHash: SessionIDHash) async throws -> SessionRecord? {
        try enter("session")
        return try await base.session(idHash)
    }

    public func recordSessionActivity(_ idHash: SessionIDHash, at: Date, ip: IPAddress, location: GeoLocation) async throws {
        try enter("recordSessionActivity")
        try await base.recordSessionActivity(idHash, at: at, ip: ip, location: location)
    }

    public func revokeSession(_ idHash: SessionIDHash, at: Date, by: String, reason: String) async throws -> Bool {
        try enter("revokeSession")
        return try await base.revokeSession(idHash, at: at, by: by, reason: reason)
    }

    public func revokeSessions(userID: String, at: Date, by: String, reason: String) async throws -> [SessionIDHash] {
        try enter("revokeSessions")
        return try await base.revokeSessions(userID: userID, at: at, by: by, reason: reason)
    }

    public func revokeSessions(idpSessionID: String, userID: String?, at: Date, reason: String) async throws -> [SessionIDHash] {
        try enter("revokeSessionsBySID")
        return try await base.revokeSessions(idpSessionID: idpSessionID, userID: userID, at: at, reason: reason)
    }

    public func activeSessions(userID: String, now: Date) async throws -> [SessionRecord] {
        try enter("activeSessions")
        return try await base.activeSessions(userID: userID, now: now)
    }

    public func countActiveSessions(now: Date, idleTimeout: Duration) async throws -> Int {
        try enter("countActiveSessions")
        return try await base.countActiveSessions(now: now, idleTimeout: idleTimeout)
    }

    public func purgeSessions(endedBefore: Date) async throws -> Int {
        try enter("purgeSessions")
        return try await base.purgeSessions(endedBefore: endedBefore)
    }

    public func recordLogin(_ profile: LoginProfile, at: Date) async throws -> UserRecord {
        try enter("recordLogin")
        return try await base.recordLogin(profile, at: at)
    }

    public func user(id: String) async throws -> UserRecord? {
        try enter("user")
        return try await base.user(id: id)
    }

    public func user(email: String) async throws -> UserRecord? {
        try enter("user")
        return try await base.user(email: email)
    }

    public func user(subject: String) async throws -> UserRecord? {
        try enter("user")
        return try await base.user(subject: subject)
    }

    public func groups(ofUser userID: String) async throws -> [GroupRecord] {
        try enter("groups")
        return try await base.groups(ofUser: userID)
    }

    public func setNotBefore(userID: String, _ instant: Date) async throws {
        try enter("setNotBefore")
        try await base.setNotBefore(userID: userID, instant)
    }

    public func consumeOnce(kind: String, value: String, expiresAt: Date, now: Date) async throws -> Bool {
        try enter("consumeOnce")
        return try await base.consumeOnce(kind: kind, value: value, expiresAt: expiresAt, now: now)
    }

    public func defaultMemberPermissions() async throws -> DefaultMemberPermissions {
        try enter("defaultMemberPermissions")
        return try await base.defaultMemberPermissions()
    }

    public func featureFlags() async throws -> FeatureFlags {
        try enter("featureFlags")
        return try await base.featureFlags()
    }

    public func versionedDefaultMemberPermissions() async throws -> Versioned<DefaultMemberPermissions> {
        try enter("defaultMemberPermissions")
        return try await base.versionedDefaultMemberPermissions()
    }

    public func versionedFeatureFlags() async throws -> Versioned<FeatureFlags> {
        try enter("featureFlags")
        return try await base.versionedFeatureFlags()
    }

    public func sharedSecret(named name: String, create: @Sendable () -> [UInt8]) async throws -> [UInt8] {
        try enter("sharedSecret")
        return try await base.sharedSecret(named: name, create: create)
    }

    public func sessionIdentity(_ idHash: SessionIDHash) async throws -> SessionIdentity? {
        try enter("sessionIdentity")
        return try await base.sessionIdentity(idHash)
    }

    public func userIdentity(userID: String) async throws -> UserIdentity? {
        try enter("userIdentity")
        return try await base.userIdentity(userID: userID)
    }

    public func userIdentity(subject: String) async throws -> UserIdentity? {
        try enter("userIdentity")
        return try await base.userIdentity(subject: subject)
    }
}
