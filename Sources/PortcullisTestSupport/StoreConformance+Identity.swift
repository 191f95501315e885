import Foundation
import PortcullisCore
import Testing

extension StoreConformance {
    static let identityChecks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("linking: only a verified email links, never onto another identity, never a look-alike", linking),
        ("settings are versioned and compare-and-set", settingsVersions),
        ("feature flags are decided on every active user and the holders; groups hold nothing with the flag off", flagDecisions),
        ("refresh tokens are kept sealed and found when due", refreshTokens),
        ("act-as uses are counted on the token and audited", actAs),
        ("departments are listed once each", departmentList),
    ]

    @Sendable static func linking(_ store: any GatewayStore) async throws {
        // A bootstrapped super admin, before any login.
        let admin = try await store.ensureUser(email: "alice@example.test", at: t0)
        var unverified = profile("sub-mallory", "alice@example.test")
        unverified.emailVerified = false
        await #expect(throws: LoginRefusal.self) { _ = try await store.recordLogin(unverified, at: t0) }
        #expect(try await store.user(id: admin.id)?.subject == nil, "an unverified email never links")
        let alice = try await store.recordLogin(profile("sub-alice", "Alice@Example.test"), at: t0)
        #expect(alice.id == admin.id)
        #expect(alice.subject == "sub-alice")
        do {
            _ = try await store.recordLogin(profile("sub-other", "alice@example.test"), at: t0)
            Issue.record("a second identity took over a linked account")
        } catch let refusal as LoginRefusal {
            #expect(refusal.code == .accountConflict)
        }
        // Look-alikes: U+212A KELVIN SIGN and fullwidth letters fold onto existing addresses.
        _ = try await store.recordLogin(profile("sub-kelvin", "kelvin@example.com"), at: t0)
        for lookalike in ["\u{212A}elvin@example.com", "ｋelvin@example.com"] {
            do {
                _ = try await store.recordLogin(profile("sub-\(lookalike.unicodeScalars.count)-x", lookalike), at: t0)
                Issue.record("\(lookalike) was accepted")
            } catch let refusal as LoginRefusal {
                #expect(refusal.code == .emailLookalike)
            }
        }
        #expect(try await store.user(email: "\u{212A}ELVIN@example.com") == nil, "lookups fold ASCII only")
        // A known subject may change email only to a verified address nobody else holds.
        var moved = profile("sub-alice", "kelvin@example.com")
        _ = try await store.recordLogin(moved, at: t0)
        #expect(try await store.user(id: admin.id)?.email == "alice@example.test")
        moved.email = "alice.new@example.test"
        moved.emailVerified = false
        _ = try await store.recordLogin(moved, at: t0)
        #expect(try await store.user(id: admin.id)?.email == "alice@example.test")
        moved.emailVerified = true
        _ = try await store.recordLogin(moved, at: t0)
        #expect(try await store.user(id: admin.id)?.email == "alice.new@example.test")
    }

    @Sendable static func settingsVersions(_ store: any GatewayStore) async throws {
        #expect(try await store.versionedDefaultMemberPermissions() == Versioned(.allOn, version: 0))
        var switches = DefaultMemberPermissions.allOn
        switches.pinsCreatePublic = false
        let first = try await store.setDefaultMemberPermissions(switches, expectedVersion: 0, audit: audit)
        #expect(first == 1)
        await #expect(throws: StoreVersionConflict(expected: 0, current: 1)) {
            _ = try await store.setDefaultMemberPermissions(.allOn, expectedVersion: 0, audit: audit)
        }
        #expect(try await store.versionedDefaultMemberPermissions() == Versioned(switches, version: 1))
        #expect(try await store.setDefaultMemberPermissions(switches, expectedVersion: 1, audit: audit) == 1, "no change, no new version")
        #expect(try await store.setDefaultMemberPermissions(.allOn, expectedVersion: 1, audit: audit) == 2)
        let flags = try await store.changeFeatureFlags(expectedVersion: 0, audit: audit) { _ in
            .success((FeatureFlags(groupBasedPermissions: false), FlagChangeImpact()))
        }
        #expect(try flags.get() == Versioned(FeatureFlags(groupBasedPermissions: false), version: 1))
        await #expect(throws: StoreVersionConflict.self) {
            _ = try await store.changeFeatureFlags(expectedVersion: 0, audit: audit) { _ in .success((.defaults, FlagChangeImpact())) }
        }
        #expect(try await store.versionedFeatureFlags().version == 1)
    }

    @Sendable static func flagDecisions(_ store: any GatewayStore) async throws {
        let direct = try await store.recordLogin(profile("sub-f1", "direct@example.com"), at: t0)
        let viaGroup = try await store.recordLogin(profile("sub-f2", "group@example.com", groups: ["Owners"]), at: t0)
        _ = try await store.changeUserRoles(userID: direct.id, audit: audit) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        _ = try await store.changeGroupRoles(name: "Owners", source: .oidc, audit: audit) { _ in
            .success(RoleAssignment(primary: .superAdmin, secondary: [.pinsModerator]))
        }
        let refused = try await store.changeFeatureFlags(expectedVersion: nil, audit: audit) { state in
            #expect(Set(state.users.map(\.user.email)) == ["direct@example.com", "group@example.com"])
            #expect(state.holders.holders(of: .primary(.superAdmin)) == [.user("direct@example.com"), .group("Owners", .oidc)])
            return RoleChangeSafety.changeFeatureFlags(
                actorIsSuperAdmin: false, from: state.current.value, to: FeatureFlags(groupBasedPermissions: false),
                users: state.users, holders: state.holders
            ).map { (FeatureFlags(groupBasedPermissions: false), $0) }
        }
        guard case .failure(let refusal) = refused else {
            Issue.record("an admin's flag change that demotes a super admin was accepted")
            return
        }
        #expect(refusal.code == .superAdminProtected)
        #expect(try await store.featureFlags() == .defaults, "a refusal changes nothing")
        let lastHolder = try await store.changeFeatureFlags(expectedVersion: nil, audit: audit) { state in
            RoleChangeSafety.changeFeatureFlags(
                actorIsSuperAdmin: true, from: state.current.value, to: FeatureFlags(groupBasedPermissions: false),
                users: state.users, holders: state.holders
            ).map { (FeatureFlags(groupBasedPermissions: false), $0) }
        }
        guard case .failure(let holderRefusal) = lastHolder else {
            Issue.record("turning the flag off while only a group holds pins_moderator was accepted")
            return
        }
        #expect(holderRefusal.code == .lastRoleHolder)
        #expect(holderRefusal.role == .secondary(.pinsModerator))
        _ = try await store.changeUserRoles(userID: direct.id, audit: audit) { _ in .success(RoleAssignment(primary: .superAdmin, secondary: [.pinsModerator])) }
        let allowed = try await store.changeFeatureFlags(expectedVersion: nil, audit: audit) { state in
            RoleChangeSafety.changeFeatureFlags(
                actorIsSuperAdmin: true, from: state.current.value, to: FeatureFlags(groupBasedPermissions: false),
                users: state.users, holders: state.holders
            ).map { (FeatureFlags(groupBasedPermissions: false), $0) }
        }
        #expect(try allowed.get().value.groupBasedPermissions == false)
        #expect(try await store.userIdentity(userID: viaGroup.id)?.effectiveRole.primary == .member)
        #expect(try await store.roleHolders().holders(of: .primary(.superAdmin)) == [.user("direct@example.com")])
        let entry = try #require(try await store.auditEntries(AuditQuery(action: .featureFlagsChanged)).first)
        #expect(entry.after?.objectValue?["super_admins_demoted"] == .array([.string("group@example.com")]))
    }

    @Sendable static func refreshTokens(_ store: any GatewayStore) async throws {
        let live = try await store.recordLogin(profile("sub-r1", "live@example.com"), at: t0)
        let idle = try await store.recordLogin(profile("sub-r2", "idle@example.com"), at: t0)
        try await store.insertSession(session(90, user: live.id))
        try await store.saveRefreshToken(userID: live.id, sealed: [9, 8, 7], at: t0)
        try await store.saveRefreshToken(userID: idle.id, sealed: [1], at: t0)
        #expect(try await store.refreshToken(userID: live.id) == StoredRefreshToken(userID: live.id, sealed: [9, 8, 7], refreshedAt: t0))
        let due = try await store.refreshTokensDue(refreshedBefore: t0.addingTimeInterval(1), now: t0.addingTimeInterval(1), limit: 10)
        #expect(due.map(\.userID) == [live.id], "only users with a live session are refreshed")
        #expect(try await store.refreshTokensDue(refreshedBefore: t0, now: t0, limit: 10).isEmpty)
        try await store.saveRefreshToken(userID: live.id, sealed: [6], at: t0.addingTimeInterval(50))
        #expect(try await store.refreshTokensDue(refreshedBefore: t0.addingTimeInterval(10), now: t0, limit: 10).isEmpty)
        try await store.deleteRefreshToken(userID: live.id)
        #expect(try await store.refreshToken(userID: live.id) == nil)
    }

    @Sendable static func actAs(_ store: any GatewayStore) async throws {
        let owner = try await store.recordLogin(profile("sub-a1", "owner@example.com"), at: t0)
        let token = APITokenRecord(id: "tok-g", ownerID: owner.id, name: "sync", scope: .global, displayPrefix: "pct_gggggg", createdAt: t0, createdBy: "owner@example.com")
        try await store.insertAPIToken(token, secretHash: Array(repeating: 7, count: 32), audit: audit)
        try await store.recordActAs(tokenID: "tok-g", targetEmail: "someone@example.com", ownerEmail: "owner@example.com", audit: audit)
        try await store.recordActAs(tokenID: "tok-g", targetEmail: "someone@example.com", ownerEmail: "owner@example.com", audit: audit)
        #expect(try await store.apiToken(id: "tok-g")?.actAsCount == 2)
        let entries = try await store.auditEntries(AuditQuery(action: .apiTokenActedAs))
        #expect(entries.count == 2)
        #expect(entries.first?.target == "someone@example.com")
        #expect(try await store.verifyAuditLog().isIntact)
    }

    @Sendable static func departmentList(_ store: any GatewayStore) async throws {
        var one = profile("sub-p1", "p1@example.com")
        one.department = "Sales"
        var two = profile("sub-p2", "p2@example.com")
        two.department = "engineering"
        var three = profile("sub-p3", "p3@example.com")
        three.department = "SALES"
        for person in [one, two, three] { _ = try await store.recordLogin(person, at: t0) }
        let listed = try await store.departments()
        #expect(listed.count == 2)
        #expect(listed.first == "engineering")
    }
}
