import Foundation
import PortcullisCore
import Testing

/// One conformance suite that every store implementation must pass (like oauth2-proxy's
/// `RunSessionStoreTests`). Call ``run(_:)`` from a test with a fresh, empty store.
public enum StoreConformance {
    public static let checks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("a login creates a user, then updates it", loginCreatesAndUpdates),
        ("logins replace group memberships", loginReplacesGroups),
        ("a pre-provisioned email is matched at first login", emailMatch),
        ("sessions round-trip every field", sessionRoundTrip),
        ("activity updates last seen and last IP", sessionActivity),
        ("revoking one session", revokeOne),
        ("revoking all of a user's sessions", revokeAll),
        ("revoking by IdP session id", revokeByIdPSession),
        ("active sessions exclude revoked and expired ones", activeSessions),
        ("expired sessions are purged", purge),
        ("one-time values are accepted once", oneTimeValues),
        ("settings default and persist", settings),
        ("shared secrets are created once and shared", sharedSecrets),
        ("session identity reads user, groups and settings together", sessionIdentity),
        ("not-before is stored", notBefore),
    ] + administrationChecks + provisioningChecks + identityChecks + sessionRiskChecks

    /// Runs every check against stores made by `make` (one fresh store per check).
    public static func run(_ make: @Sendable () async throws -> any GatewayStore) async throws {
        for (name, check) in checks {
            let store = try await make()
            do {
                try await check(store)
            } catch {
                Issue.record("store conformance check \"\(name)\" threw: \(error)")
            }
        }
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let audit = AuditContext(actor: "root@example.com", actorIsSuperAdmin: true, sourceIP: "198.51.100.1", at: t0)

    static func profile(_ subject: String, _ email: String, groups: [String] = []) -> LoginProfile {
        LoginProfile(subject: subject, email: email, name: "Name \(subject)", department: "Engineering", groups: groups)
    }

    static func hash(_ seed: UInt8) -> SessionIDHash {
        SessionIDHash(bytes: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed)) })!
    }

    static func session(_ seed: UInt8, user: String, at: Date = t0, absolute: TimeInterval = 86_400, sid: String? = "sid-1") -> SessionRecord {
        SessionRecord(
            idHash: hash(seed), userID: user, createdAt: at, lastSeenAt: at, absoluteExpiresAt: at.addingTimeInterval(absolute),
            createdIP: .literal("198.51.100.7"), lastIP: .literal("198.51.100.7"),
            createdLocation: GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin"),
            lastLocation: GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin"),
            userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            device: DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop),
            authMethod: .oidc, idpSessionID: sid, amr: ["pwd", "otp"], acr: "urn:mfa", mfa: true
        )
    }

    @Sendable static func loginCreatesAndUpdates(_ store: any GatewayStore) async throws {
        let first = try await store.recordLogin(profile("sub-1", "Ada@Example.com"), at: t0)
        #expect(first.email == "Ada@Example.com")
        #expect(first.subject == "sub-1")
        #expect(first.active)
        #expect(first.lastLoginAt == t0)
        var changed = profile("sub-1", "ada.lovelace@example.com")
        changed.name = "Ada Lovelace"
        let second = try await store.recordLogin(changed, at: t0.addingTimeInterval(60))
        #expect(second.id == first.id)
        #expect(second.email == "ada.lovelace@example.com")
        #expect(second.name == "Ada Lovelace")
        #expect(try await store.user(email: "ADA.LOVELACE@example.com")?.id == first.id)
        #expect(try await store.user(subject: "sub-1")?.id == first.id)
        #expect(try await store.user(id: first.id)?.lastLoginAt == t0.addingTimeInterval(60))
        #expect(try await store.user(email: "nobody@example.com") == nil)
    }

    @Sendable static func loginReplacesGroups(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-2", "bo@example.com", groups: ["IT-Admins", "Content-Team"]), at: t0)
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Content-Team", "IT-Admins"])
        _ = try await store.recordLogin(profile("sub-2", "bo@example.com", groups: ["Content-Team"]), at: t0)
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Content-Team"])
        _ = try await store.recordLogin(profile("sub-2", "bo@example.com", groups: []), at: t0)
        #expect(try await store.groups(ofUser: user.id).isEmpty)
    }

    @Sendable static func emailMatch(_ store: any GatewayStore) async throws {
        let first = try await store.recordLogin(profile("sub-3", "cy@example.com"), at: t0)
        // Another subject with the same email is a different person, not a takeover.
        await #expect(throws: (any Error).self) {
            _ = try await store.recordLogin(profile("sub-other", "cy@example.com"), at: t0)
        }
        #expect(try await store.user(email: "cy@example.com")?.subject == first.subject)
    }

    @Sendable static func sessionRoundTrip(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-4", "di@example.com"), at: t0)
        let record = session(1, user: user.id)
        try await store.insertSession(record)
        let loaded = try #require(try await store.session(record.idHash))
        #expect(loaded == record)
        #expect(try await store.session(hash(99)) == nil)
        #expect(try await store.user(id: user.id)?.lastSeenAt == t0)
    }

    @Sendable static func sessionActivity(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-5", "ed@example.com"), at: t0)
        try await store.insertSession(session(2, user: user.id))
        let later = t0.addingTimeInterval(120)
        try await store.recordSessionActivity(hash(2), at: later, ip: .literal("2001:db8::5"), location: GeoLocation(countryCode: "JP"))
        let loaded = try #require(try await store.session(hash(2)))
        #expect(loaded.lastSeenAt == later)
        #expect(loaded.lastIP == .literal("2001:db8::5"))
        #expect(loaded.lastLocation.countryCode == "JP")
        #expect(loaded.createdIP == .literal("198.51.100.7"))
        #expect(try await store.user(id: user.id)?.lastSeenAt == later)
    }

    @Sendable static func revokeOne(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-6", "fa@example.com"), at: t0)
        try await store.insertSession(session(3, user: user.id))
        #expect(try await store.revokeSession(hash(3), at: t0, by: "user", reason: "logout"))
        #expect(try await !store.revokeSession(hash(3), at: t0, by: "user", reason: "logout"))
        let loaded = try #require(try await store.session(hash(3)))
        #expect(loaded.revokedAt == t0)
        #expect(loaded.revokedBy == "user")
        #expect(loaded.revokedReason == "logout")
    }

    @Sendable static func revokeAll(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-7", "gi@example.com"), at: t0)
        let other = try await store.recordLogin(profile("sub-8", "ha@example.com"), at: t0)
        for seed in [4, 5, 6] as [UInt8] { try await store.insertSession(session(seed, user: user.id)) }
        try await store.insertSession(session(7, user: other.id))
        _ = try await store.revokeSession(hash(6), at: t0, by: "user", reason: "logout")
        let revoked = try await store.revokeSessions(userID: user.id, at: t0, by: "admin@example.com", reason: "sign out all")
        #expect(Set(revoked) == [hash(4), hash(5)])
        #expect(try await store.session(hash(4))?.revokedBy == "admin@example.com")
        #expect(try await store.session(hash(7))?.revokedAt == nil)
        #expect(try await store.revokeSessions(userID: user.id, at: t0, by: "x", reason: "again").isEmpty)
    }

    @Sendable static func revokeByIdPSession(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-9", "io@example.com"), at: t0)
        try await store.insertSession(session(8, user: user.id, sid: "idp-a"))
        try await store.insertSession(session(9, user: user.id, sid: "idp-b"))
        #expect(try await store.revokeSessions(idpSessionID: "idp-a", userID: user.id, at: t0, reason: "backchannel") == [hash(8)])
        #expect(try await store.revokeSessions(idpSessionID: "idp-b", userID: "someone-else", at: t0, reason: "backchannel").isEmpty)
        #expect(try await store.session(hash(9))?.revokedAt == nil)
    }

    @Sendable static func activeSessions(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-10", "ju@example.com"), at: t0)
        try await store.insertSession(session(10, user: user.id, at: t0))
        try await store.insertSession(session(11, user: user.id, at: t0.addingTimeInterval(10)))
        try await store.insertSession(session(12, user: user.id, at: t0, absolute: 5))
        _ = try await store.revokeSession(hash(10), at: t0, by: "x", reason: "y")
        let active = try await store.activeSessions(userID: user.id, now: t0.addingTimeInterval(20))
        #expect(active.map(\.idHash) == [hash(11)])
    }

    @Sendable static func purge(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-11", "ka@example.com"), at: t0)
        try await store.insertSession(session(13, user: user.id, absolute: 10))
        try await store.insertSession(session(14, user: user.id, absolute: 10_000))
        #expect(try await store.purgeSessions(endedBefore: t0.addingTimeInterval(100)) == 1)
        #expect(try await store.session(hash(13)) == nil)
        #expect(try await store.session(hash(14)) != nil)
    }

    @Sendable static func oneTimeValues(_ store: any GatewayStore) async throws {
        #expect(try await store.consumeOnce(kind: "jti", value: "abc", expiresAt: t0.addingTimeInterval(60), now: t0))
        #expect(try await !store.consumeOnce(kind: "jti", value: "abc", expiresAt: t0.addingTimeInterval(60), now: t0))
        #expect(try await store.consumeOnce(kind: "state", value: "abc", expiresAt: t0.addingTimeInterval(60), now: t0))
        // After expiry the value may be recorded again.
        #expect(try await store.consumeOnce(kind: "jti", value: "abc", expiresAt: t0.addingTimeInterval(300), now: t0.addingTimeInterval(120)))
    }

    @Sendable static func settings(_ store: any GatewayStore) async throws {
        #expect(try await store.defaultMemberPermissions() == .allOn)
        #expect(try await store.featureFlags() == .defaults)
        var defaults = DefaultMemberPermissions.allOn
        defaults.answersCreate = false
        try await store.setDefaultMemberPermissions(defaults, audit: audit)
        try await store.setFeatureFlags(FeatureFlags(groupBasedPermissions: false), audit: audit)
        #expect(try await store.defaultMemberPermissions() == defaults)
        #expect(try await store.featureFlags().groupBasedPermissions == false)
    }

    @Sendable static func sharedSecrets(_ store: any GatewayStore) async throws {
        let first = try await store.sharedSecret(named: "state", create: { [1, 2, 3] })
        let second = try await store.sharedSecret(named: "state", create: { [9, 9, 9] })
        #expect(first == [1, 2, 3])
        #expect(second == [1, 2, 3])
        #expect(try await store.replaceSharedSecret(named: "state", expected: [9, 9, 9], with: [4]) == false)
        #expect(try await store.replaceSharedSecret(named: "state", expected: [1, 2, 3], with: [4, 5]))
        #expect(try await store.sharedSecret(named: "state", create: { [0] }) == [4, 5])
    }

    @Sendable static func sessionIdentity(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-12", "lu@example.com", groups: ["Team"]), at: t0)
        try await store.insertSession(session(15, user: user.id))
        var defaults = DefaultMemberPermissions.allOn
        defaults.goLinksCreate = false
        try await store.setDefaultMemberPermissions(defaults, audit: audit)
        let identity = try #require(try await store.sessionIdentity(hash(15)))
        #expect(identity.user.id == user.id)
        #expect(identity.session.idHash == hash(15))
        #expect(identity.groups.map(\.name) == ["Team"])
        #expect(identity.defaults == defaults)
        #expect(identity.effectiveRole.primary == .member)
        #expect(try await store.sessionIdentity(hash(200)) == nil)
        #expect(try await store.userIdentity(subject: "sub-12")?.user.id == user.id)
        #expect(try await store.userIdentity(userID: user.id)?.groups.count == 1)
    }

    @Sendable static func notBefore(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-13", "mo@example.com"), at: t0)
        try await store.setNotBefore(userID: user.id, t0.addingTimeInterval(30))
        #expect(try await store.user(id: user.id)?.notBefore == t0.addingTimeInterval(30))
    }
}
