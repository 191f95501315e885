import Foundation
import PortcullisCore
import Synchronization
import Testing

extension StoreConformance {
    static let provisioningChecks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("SCIM users are created, refused when duplicated, replaced with their document, versioned and paged", provisionedUsers),
        ("deactivating a user revokes sessions, tokens, the refresh token and earlier bearer tokens at once", deactivation),
        ("deleting a user ends everything and removes them", deletion),
        ("SCIM groups: members replaced, effective roles follow, unknown members refused", provisionedGroups),
        ("SCIM adopts groups a mapping or a sign-in named; deleting keeps a mapped group", adoptionAndDeletion),
        ("membership changes are decided inside the transaction; a refusal changes nothing", membershipDecisions),
        ("logins replace only oidc memberships, SCIM only scim ones; the policy decides what counts", groupSources),
    ]

    static func draft(_ name: String, members: [String] = [], externalID: String? = nil, description: String? = nil) -> GroupDraft {
        GroupDraft(name: name, externalID: externalID, description: description, members: members)
    }

    static let accept: @Sendable (MembershipChangeState) -> RoleChangeRefusal? = { _ in nil }

    @Sendable static func provisionedUsers(_ store: any GatewayStore) async throws {
        let document: [String: JSONValue] = ["userName": .string("Pat@Example.com"), "title": .string("Ops lead"),
                                             "emails": .array([.object(["value": .string("Pat@Example.com")])])]
        let created = try await store.provisionUser(
            ProvisionedUser(email: "Pat@Example.com", name: "Pat", department: "Ops", externalID: "ext-1", document: document), audit: audit
        )
        #expect(created.email == "Pat@Example.com")
        #expect(created.externalID == "ext-1")
        #expect(created.active)
        #expect(created.scimDocument == document)
        #expect(created.version == 1)
        #expect(created.updatedAt == t0)
        await #expect(throws: StoreConflict.self) {
            _ = try await store.provisionUser(ProvisionedUser(email: "pat@example.com"), audit: audit)
        }
        // ASCII case folding only: a look-alike with U+212A KELVIN SIGN is refused, not merged.
        _ = try await store.provisionUser(ProvisionedUser(email: "kelvin@example.com"), audit: audit)
        await #expect(throws: StoreConflict.self) {
            _ = try await store.provisionUser(ProvisionedUser(email: "\u{212A}elvin@example.com"), audit: audit)
        }
        let other = try await store.provisionUser(ProvisionedUser(email: "quinn@example.com"), audit: audit)
        await #expect(throws: StoreConflict.self) {
            _ = try await store.updateProvisionedUser(id: other.id, ProvisionedUser(email: "PAT@example.com"), expectedVersion: nil, audit: audit)
        }
        let later = AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: nil, at: t0.addingTimeInterval(5))
        let updated = try #require(try await store.updateProvisionedUser(
            id: created.id, ProvisionedUser(email: "pat@example.com", name: "Pat Doe", department: "Eng", externalID: "ext-1"),
            expectedVersion: 1, audit: later
        ))
        #expect(updated.0.name == "Pat Doe")
        #expect(updated.0.version == 2)
        #expect(updated.0.updatedAt == t0.addingTimeInterval(5))
        #expect(updated.0.scimDocument == nil)
        #expect(updated.1 == .none)
        await #expect(throws: StoreVersionConflict(expected: 1, current: 2)) {
            _ = try await store.updateProvisionedUser(id: created.id, ProvisionedUser(email: "pat@example.com"), expectedVersion: 1, audit: audit)
        }
        await #expect(throws: StoreVersionConflict.self) {
            _ = try await store.deleteProvisionedUser(id: created.id, expectedVersion: 7, audit: audit)
        }
        #expect(try await store.updateProvisionedUser(id: "nobody", ProvisionedUser(email: "x@example.com"), expectedVersion: nil, audit: audit) == nil)
        let first = try await store.provisionedUsers(offset: 0, limit: 1)
        #expect(first.total == 3)
        #expect(first.users.map(\.email) == ["kelvin@example.com"])
        #expect(try await store.provisionedUsers(offset: 1, limit: 10).users.map(\.email) == ["pat@example.com", "quinn@example.com"])
        // A pre-provisioned user's first SSO login finds the same record.
        let login = try await store.recordLogin(profile("sub-pat", "pat@example.com"), at: t0)
        #expect(login.id == created.id)
        #expect(try await store.auditEntries(AuditQuery(action: .userProvisioned)).count == 4)
    }

    @Sendable static func deactivation(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-d1", "dee@example.com"), at: t0)
        try await store.insertSession(session(80, user: user.id))
        let token = APITokenRecord(id: "tok-d", ownerID: user.id, name: "ci", scope: .user, displayPrefix: "pct_dddddd", createdAt: t0, createdBy: "dee@example.com")
        try await store.insertAPIToken(token, secretHash: Array(repeating: 3, count: 32), audit: audit)
        try await store.saveRefreshToken(userID: user.id, sealed: [1, 2, 3], at: t0)
        let later = AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: nil, at: t0.addingTimeInterval(10))
        let result = try #require(try await store.updateProvisionedUser(
            id: user.id, ProvisionedUser(email: "dee@example.com", active: false), expectedVersion: nil, audit: later
        ))
        #expect(result.0.active == false)
        #expect(result.1.revokedSessions == [hash(80)])
        #expect(result.1.revokedTokens == 1)
        #expect(try await store.session(hash(80))?.revokedAt == t0.addingTimeInterval(10))
        #expect(try await store.apiToken(id: "tok-d")?.revokedAt == t0.addingTimeInterval(10))
        #expect(try await store.user(id: user.id)?.notBefore == t0.addingTimeInterval(10))
        #expect(try await store.refreshToken(userID: user.id) == nil)
        #expect(try await store.auditEntries(AuditQuery(action: .userDeprovisioned)).count == 1)
        // Deactivated users hold no roles for the last-holder rule.
        #expect(try await store.roleHolders().holders(of: .primary(.admin)).isEmpty)
    }

    @Sendable static func deletion(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-e1", "eli@example.com", groups: ["G"]), at: t0)
        try await store.insertSession(session(81, user: user.id))
        let outcome = try #require(try await store.deleteProvisionedUser(id: user.id, expectedVersion: user.version, audit: audit))
        #expect(outcome.revokedSessions == [hash(81)])
        #expect(try await store.user(id: user.id) == nil)
        #expect(try await store.session(hash(81)) == nil)
        #expect(try await store.deleteProvisionedUser(id: user.id, expectedVersion: nil, audit: audit) == nil)
        #expect(try await store.group(named: "G")?.memberCount == 0)
    }

    @Sendable static func provisionedGroups(_ store: any GatewayStore) async throws {
        let a = try await store.provisionUser(ProvisionedUser(email: "a@example.com"), audit: audit)
        let b = try await store.provisionUser(ProvisionedUser(email: "b@example.com"), audit: audit)
        await #expect(throws: StoreUnknownReferences(["unknown-id"])) {
            _ = try await store.provisionGroup(draft("Admins", members: [a.id, "unknown-id"]), audit: audit)
        }
        let group = try await store.provisionGroup(draft("Admins", members: [a.id], externalID: "g-1", description: "The admins"), audit: audit)
        #expect(group.group.name == "Admins")
        #expect(group.group.externalID == "g-1")
        #expect(group.group.description == "The admins")
        #expect(group.group.provisioned)
        #expect(group.group.version == 1)
        #expect(group.members.map(\.email) == ["a@example.com"])
        await #expect(throws: StoreConflict.self) {
            _ = try await store.provisionGroup(draft("Admins"), audit: audit)
        }
        _ = try await store.changeGroupRoles(name: "Admins", source: .scim, audit: audit) { _ in .success(RoleAssignment(primary: .admin)) }
        #expect(try await store.userIdentity(userID: b.id)?.effectiveRole.primary == .member)
        let moved = try #require(try await store.updateProvisionedGroup(
            id: group.group.id, draft("Admins", members: [b.id], externalID: "g-1"), expectedVersion: 1, audit: audit, decide: accept
        )).get()
        #expect(moved.members.map(\.email) == ["b@example.com"])
        #expect(moved.group.version == 2)
        #expect(moved.group.description == nil)
        #expect(try await store.userIdentity(userID: b.id)?.effectiveRole.primary == .admin)
        #expect(try await store.userIdentity(userID: a.id)?.effectiveRole.primary == .member)
        await #expect(throws: StoreVersionConflict.self) {
            _ = try await store.updateProvisionedGroup(id: group.group.id, draft("Admins"), expectedVersion: 1, audit: audit, decide: accept)
        }
        let renamed = try #require(try await store.updateProvisionedGroup(
            id: group.group.id, draft("Administrators", members: [a.id, b.id], externalID: "g-1"), expectedVersion: nil, audit: audit, decide: accept
        )).get()
        #expect(renamed.group.name == "Administrators")
        #expect(renamed.members.count == 2)
        #expect(renamed.group.mappings[.scim]?.primary == .admin, "renaming keeps the mapping")
        let page = try await store.provisionedGroups(offset: 0, limit: 10)
        #expect(page.total == 1)
        #expect(page.groups.first?.members.count == 2)
        #expect(try await store.provisionedGroup(id: group.group.id)?.group.name == "Administrators")
        #expect(try await store.updateProvisionedGroup(id: "nope", draft("X"), expectedVersion: nil, audit: audit, decide: accept) == nil)
    }

    @Sendable static func adoptionAndDeletion(_ store: any GatewayStore) async throws {
        let a = try await store.provisionUser(ProvisionedUser(email: "a@example.com"), audit: audit)
        // A mapping names a group before SCIM provisions it.
        let mapped = try #require(try await store.changeGroupRoles(name: "Moderators", source: .scim, audit: audit) { state in
            #expect(state.group == nil)
            return .success(RoleAssignment(secondary: [.pinsModerator]))
        })
        #expect(try mapped.get().after == RoleAssignment(secondary: [.pinsModerator]))
        #expect(try await store.group(named: "Moderators")?.memberCount == 0)
        #expect(try await store.provisionedGroups(offset: 0, limit: 10).total == 0, "SCIM lists only the groups it manages")
        #expect(try await store.changeGroupRoles(name: "Nobody", source: .scim, audit: audit) { _ in .success(nil) } == nil)
        let adopted = try await store.provisionGroup(draft("Moderators", members: [a.id], externalID: "okta-7"), audit: audit)
        #expect(adopted.group.mappings == [.scim: RoleAssignment(secondary: [.pinsModerator])])
        #expect(try await store.userIdentity(userID: a.id)?.effectiveRole.secondary == [.pinsModerator])
        // SCIM deletes it: members leave, the mapped group stays (outside SCIM's view).
        await #expect(throws: StoreVersionConflict.self) {
            _ = try await store.deleteProvisionedGroup(id: adopted.group.id, expectedVersion: 99, audit: audit, decide: accept)
        }
        let deleted = try #require(try await store.deleteProvisionedGroup(id: adopted.group.id, expectedVersion: nil, audit: audit, decide: accept))
        _ = try deleted.get()
        #expect(try await store.provisionedGroup(id: adopted.group.id) == nil)
        #expect(try await store.group(named: "Moderators")?.group.mappings == [.scim: RoleAssignment(secondary: [.pinsModerator])])
        #expect(try await store.userIdentity(userID: a.id)?.effectiveRole.secondary == [])
        #expect(try await store.deleteProvisionedGroup(id: adopted.group.id, expectedVersion: nil, audit: audit, decide: accept) == nil)
        // An unmapped group nothing else names goes away.
        let plain = try await store.provisionGroup(draft("Plain", members: [a.id]), audit: audit)
        _ = try #require(try await store.deleteProvisionedGroup(id: plain.group.id, expectedVersion: nil, audit: audit, decide: accept)).get()
        #expect(try await store.group(named: "Plain") == nil)
        #expect(try await store.auditEntries(AuditQuery(action: .groupDeprovisioned)).count == 2)
    }

    @Sendable static func membershipDecisions(_ store: any GatewayStore) async throws {
        let root = try await store.provisionUser(ProvisionedUser(email: "root@example.com"), audit: audit)
        let dual = try await store.recordLogin(profile("sub-dual", "dual@example.com", groups: ["Owners"]), at: t0)
        let owners = try await store.provisionGroup(draft("Owners", members: [root.id, dual.id]), audit: audit)
        _ = try await store.changeGroupRoles(name: "Owners", source: .scim, audit: audit) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        let seen = StateBox()
        let refused = try #require(try await store.updateProvisionedGroup(
            id: owners.group.id, draft("Owners"), expectedVersion: nil, audit: audit
        ) { state in
            seen.set(state)
            return RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: state.group, losing: state.losing)
        })
        guard case .failure(let refusal) = refused else {
            Issue.record("removing the only super admin through SCIM was accepted")
            return
        }
        #expect(refusal.code == .superAdminProtected)
        // dual@ stays a member through the sign-in claims, but that membership does not carry
        // the SCIM mapping: both would lose it.
        #expect(Set(seen.get()?.losing.map(\.user.email) ?? []) == ["dual@example.com", "root@example.com"])
        #expect(seen.get()?.group.mappings[.scim]?.primary == .superAdmin)
        #expect(try await store.provisionedGroup(id: owners.group.id)?.members.count == 2, "a refusal changes nothing")
        #expect(try await store.userIdentity(userID: root.id)?.effectiveRole.primary == .superAdmin)
        let deleteRefused = try #require(try await store.deleteProvisionedGroup(id: owners.group.id, expectedVersion: nil, audit: audit) { state in
            RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: state.group, losing: state.losing)
        })
        if case .success = deleteRefused { Issue.record("deleting the super admins' group through SCIM was accepted") }
        #expect(try await store.provisionedGroup(id: owners.group.id) != nil)
        // Membership is the provider's word: SCIM may take the last person holding a role
        // through a group out of it; the group stays mapped and, empty, holds nothing (issue 21).
        let pilot = try await store.provisionUser(ProvisionedUser(email: "pilot@example.com"), audit: audit)
        let pilots = try await store.provisionGroup(draft("Pilots", members: [pilot.id]), audit: audit)
        _ = try await store.changeGroupRoles(name: "Pilots", source: .scim, audit: audit) { _ in .success(RoleAssignment(secondary: [.pinsModerator])) }
        #expect(try await store.roleHolders().people(holding: .secondary(.pinsModerator)) == ["pilot@example.com"])
        let lastPerson = try #require(try await store.updateProvisionedGroup(
            id: pilots.group.id, draft("Pilots"), expectedVersion: nil, audit: audit
        ) { state in
            RoleChangeSafety.removeMembers(actorIsSuperAdmin: false, group: state.group, losing: state.losing)
        })
        _ = try lastPerson.get()
        #expect(try await store.userIdentity(userID: pilot.id)?.effectiveRole.secondary == [])
        #expect(try await store.group(named: "Pilots")?.group.mappings == [.scim: RoleAssignment(secondary: [.pinsModerator])])
        #expect(try await store.roleHolders().people(holding: .secondary(.pinsModerator)).isEmpty)
    }

    @Sendable static func groupSources(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-src", "src@example.com", groups: ["Claims-Group", "Both"]), at: t0)
        let scimGroup = try await store.provisionGroup(draft("Scim-Group", members: [user.id]), audit: audit)
        let both = try await store.provisionGroup(draft("Both", members: [user.id]), audit: audit)
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Both", "Claims-Group", "Scim-Group"])
        #expect(try await store.groups(ofUser: user.id).first { $0.name == "Both" }?.sources == [.oidc, .scim])
        // A login without the groups claim leaves memberships alone; one with it replaces only
        // the oidc ones.
        var withoutClaim = profile("sub-src", "src@example.com")
        withoutClaim.groups = nil
        _ = try await store.recordLogin(withoutClaim, at: t0)
        #expect(try await store.groups(ofUser: user.id).count == 3)
        _ = try await store.recordLogin(profile("sub-src", "src@example.com", groups: []), at: t0)
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Both", "Scim-Group"])
        #expect(try await store.groups(ofUser: user.id).first { $0.name == "Both" }?.sources == [.scim])
        // SCIM replacing its members leaves the oidc ones.
        _ = try await store.recordLogin(profile("sub-src", "src@example.com", groups: ["Both"]), at: t0)
        _ = try #require(try await store.updateProvisionedGroup(id: both.group.id, draft("Both"), expectedVersion: nil, audit: audit, decide: accept)).get()
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Both", "Scim-Group"])
        #expect(try await store.groups(ofUser: user.id).first { $0.name == "Both" }?.sources == [.oidc])
        // The policy decides which count.
        store.countGroupMemberships(from: .claims)
        #expect(try await store.groups(ofUser: user.id).map(\.name) == ["Both"])
        store.countGroupMemberships(from: .scim)
        #expect(try await store.userIdentity(userID: user.id)?.groups.map(\.name) == ["Scim-Group"])
        store.countGroupMemberships(from: .both)
        let refreshed = try #require(try await store.refreshDirectoryProfile(userID: user.id, name: "New Name", department: "New Dept", groups: ["Fresh"], at: t0))
        #expect(refreshed.before == ["Both", "Scim-Group"])
        #expect(refreshed.after == ["Fresh", "Scim-Group"])
        #expect(try await store.user(id: user.id)?.department == "New Dept")
        #expect(try await store.refreshDirectoryProfile(userID: "nobody", name: nil, department: nil, groups: [], at: t0) == nil)
        _ = scimGroup
    }
}

/// Carries a decision's input out of the store's closure, for assertions.
final class StateBox: Sendable {
    private let state = Mutex<MembershipChangeState?>(nil)
    func set(_ value: MembershipChangeState) { state.withLock { $0 = value } }
    func get() -> MembershipChangeState? { state.withLock { $0 } }
}
