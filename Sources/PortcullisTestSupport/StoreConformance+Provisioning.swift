import Foundation
import PortcullisCore
import Testing

extension StoreConformance {
    static let provisioningChecks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("SCIM users are created, refused when duplicated, replaced and paged", provisionedUsers),
        ("deactivating a user revokes sessions, tokens and earlier bearer tokens at once", deactivation),
        ("deleting a user ends everything and removes them", deletion),
        ("SCIM groups: members added, removed and replaced; effective roles follow", provisionedGroups),
    ]

    @Sendable static func provisionedUsers(_ store: any GatewayStore) async throws {
        let created = try await store.provisionUser(
            ProvisionedUser(email: "Pat@Example.com", name: "Pat", department: "Ops", externalID: "ext-1"), audit: audit
        )
        #expect(created.email == "Pat@Example.com")
        #expect(created.externalID == "ext-1")
        #expect(created.active)
        await #expect(throws: StoreConflict.self) {
            _ = try await store.provisionUser(ProvisionedUser(email: "pat@example.com"), audit: audit)
        }
        let other = try await store.provisionUser(ProvisionedUser(email: "quinn@example.com"), audit: audit)
        await #expect(throws: StoreConflict.self) {
            _ = try await store.updateProvisionedUser(id: other.id, ProvisionedUser(email: "PAT@example.com"), audit: audit)
        }
        let updated = try #require(try await store.updateProvisionedUser(
            id: created.id, ProvisionedUser(email: "pat@example.com", name: "Pat Doe", department: "Eng", externalID: "ext-1"), audit: audit
        ))
        #expect(updated.0.name == "Pat Doe")
        #expect(updated.1 == .none)
        #expect(try await store.updateProvisionedUser(id: "nobody", ProvisionedUser(email: "x@example.com"), audit: audit) == nil)
        let first = try await store.provisionedUsers(offset: 0, limit: 1)
        #expect(first.total == 2)
        #expect(first.users.map(\.email) == ["pat@example.com"])
        #expect(try await store.provisionedUsers(offset: 1, limit: 10).users.map(\.email) == ["quinn@example.com"])
        // A pre-provisioned user's first SSO login finds the same record.
        let login = try await store.recordLogin(profile("sub-pat", "pat@example.com"), at: t0)
        #expect(login.id == created.id)
        #expect(try await store.auditEntries(AuditQuery(action: .userProvisioned)).count == 3)
    }

    @Sendable static func deactivation(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-d1", "dee@example.com"), at: t0)
        try await store.insertSession(session(80, user: user.id))
        let token = APITokenRecord(id: "tok-d", ownerID: user.id, name: "ci", scope: .user, displayPrefix: "pct_dddddd", createdAt: t0, createdBy: "dee@example.com")
        try await store.insertAPIToken(token, secretHash: Array(repeating: 3, count: 32), audit: audit)
        let later = AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: nil, at: t0.addingTimeInterval(10))
        let result = try #require(try await store.updateProvisionedUser(id: user.id, ProvisionedUser(email: "dee@example.com", active: false), audit: later))
        #expect(result.0.active == false)
        #expect(result.1.revokedSessions == [hash(80)])
        #expect(result.1.revokedTokens == 1)
        #expect(try await store.session(hash(80))?.revokedAt == t0.addingTimeInterval(10))
        #expect(try await store.apiToken(id: "tok-d")?.revokedAt == t0.addingTimeInterval(10))
        #expect(try await store.user(id: user.id)?.notBefore == t0.addingTimeInterval(10))
        #expect(try await store.auditEntries(AuditQuery(action: .userDeprovisioned)).count == 1)
        // Deactivated users hold no roles for the last-holder rule.
        #expect(try await store.roleHolders().holders(of: .primary(.admin)).isEmpty)
    }

    @Sendable static func deletion(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-e1", "eli@example.com", groups: ["G"]), at: t0)
        try await store.insertSession(session(81, user: user.id))
        let outcome = try #require(try await store.deleteProvisionedUser(id: user.id, audit: audit))
        #expect(outcome.revokedSessions == [hash(81)])
        #expect(try await store.user(id: user.id) == nil)
        #expect(try await store.session(hash(81)) == nil)
        #expect(try await store.deleteProvisionedUser(id: user.id, audit: audit) == nil)
        #expect(try await store.group(named: "G")?.memberCount == 0)
    }

    @Sendable static func provisionedGroups(_ store: any GatewayStore) async throws {
        let a = try await store.provisionUser(ProvisionedUser(email: "a@example.com"), audit: audit)
        let b = try await store.provisionUser(ProvisionedUser(email: "b@example.com"), audit: audit)
        let group = try await store.provisionGroup(name: "Admins", externalID: "g-1", members: [a.id, "unknown-id"], audit: audit)
        #expect(group.group.name == "Admins")
        #expect(group.group.externalID == "g-1")
        #expect(group.members.map(\.email) == ["a@example.com"])
        await #expect(throws: StoreConflict.self) {
            _ = try await store.provisionGroup(name: "Admins", externalID: nil, members: [], audit: audit)
        }
        _ = try await store.changeGroupRoles(name: "Admins", audit: audit) { _ in .success(RoleAssignment(primary: .admin)) }
        #expect(try await store.userIdentity(userID: b.id)?.effectiveRole.primary == .member)
        let added = try #require(try await store.changeGroupMembers(id: group.group.id, adding: [b.id], removing: [a.id], audit: audit))
        #expect(added.members.map(\.email) == ["b@example.com"])
        #expect(try await store.userIdentity(userID: b.id)?.effectiveRole.primary == .admin)
        #expect(try await store.userIdentity(userID: a.id)?.effectiveRole.primary == .member)
        let replaced = try #require(try await store.replaceProvisionedGroup(
            id: group.group.id, name: "Administrators", externalID: "g-1", members: [a.id, b.id], audit: audit
        ))
        #expect(replaced.group.name == "Administrators")
        #expect(replaced.members.count == 2)
        #expect(replaced.group.roles?.primary == .admin, "renaming keeps the mapping")
        let page = try await store.provisionedGroups(offset: 0, limit: 10)
        #expect(page.total == 1)
        #expect(page.groups.first?.members.count == 2)
        #expect(try await store.provisionedGroup(id: group.group.id)?.group.name == "Administrators")
        #expect(try await store.deleteProvisionedGroup(id: group.group.id, audit: audit))
        #expect(try await store.deleteProvisionedGroup(id: group.group.id, audit: audit) == false)
        #expect(try await store.userIdentity(userID: b.id)?.effectiveRole.primary == .member)
        #expect(try await store.changeGroupMembers(id: "nope", adding: [], removing: [], audit: audit) == nil)
    }
}
