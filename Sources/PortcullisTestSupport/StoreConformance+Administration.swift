import Foundation
import PortcullisCore
import Testing

extension StoreConformance {
    static let administrationChecks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("role changes are decided and written in one step, with an audit entry", userRoleChange),
        ("a refused role change writes nothing", refusedRoleChange),
        ("group mappings are set for one source, counted by group and removed", groupMappings),
        ("role holders list users and groups, not deactivated users", holders),
        ("role holders count people: a mapped group without members of its source holds nothing", holdersArePeople),
        ("a mapping counts only for memberships of its source, never a same-named group of the other", mappingsMatchSource),
        ("teammates are found by text and department", teammateSearch),
        ("bootstrap makes one super admin, and is refused once one exists unless forced", bootstrap),
        ("sign out everywhere revokes sessions, sets not-before and optionally tokens", signOutEverywhere),
        ("API tokens are found by secret hash and revoked", apiTokens),
        ("greenlists are stored, replaced and deleted; the tenant list is a setting", greenlists),
        ("the audit log is chained, filtered and verifies", auditLog),
        ("every user's active sessions are listed", allActiveSessions),
    ]

    @Sendable static func userRoleChange(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-a1", "ada@example.com", groups: ["IT-Admins"]), at: t0)
        let result = try await store.changeUserRoles(userID: user.id, audit: audit) { state in
            #expect(state.user?.user.email == "ada@example.com")
            #expect(state.user?.groups.map(\.name) == ["IT-Admins"])
            return .success(RoleAssignment(primary: .admin, secondary: [.answersModerator]))
        }
        let outcome = try #require(try result?.get())
        #expect(outcome.before == RoleAssignment.none)
        #expect(outcome.after == RoleAssignment(primary: .admin, secondary: [.answersModerator]))
        #expect(try await store.user(id: user.id)?.directRoles == RoleAssignment(primary: .admin, secondary: [.answersModerator]))
        let entries = try await store.auditEntries(AuditQuery(action: .userRolesChanged))
        #expect(entries.count == 1)
        #expect(entries.first?.target == "ada@example.com")
        #expect(entries.first?.actor == "root@example.com")
        #expect(entries.first?.actorIsSuperAdmin == true)
        #expect(entries.first?.sourceIP == "198.51.100.1")
        #expect(entries.first?.after == .object(["primary": .string("admin"), "secondary": .array([.string("answers_moderator")])]))
        #expect(try await store.changeUserRoles(userID: "nobody", audit: audit) { _ in .success(.none) } == nil)
    }

    @Sendable static func refusedRoleChange(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-a2", "bob@example.com"), at: t0)
        let refusal = RoleChangeRefusal(code: .lastRoleHolder, role: .primary(.superAdmin), message: "no")
        let result = try await store.changeUserRoles(userID: user.id, audit: audit) { _ in .failure(refusal) }
        #expect(result == .failure(refusal))
        #expect(try await store.user(id: user.id)?.directRoles == RoleAssignment.none)
        #expect(try await store.auditLog().isEmpty)
    }

    @Sendable static func groupMappings(_ store: any GatewayStore) async throws {
        _ = try await store.recordLogin(profile("sub-g1", "cy@example.com", groups: ["IT-Admins", "Content-Team"]), at: t0)
        let mapped = try await store.changeGroupRoles(name: "IT-Admins", source: .oidc, audit: audit) { state in
            #expect(state.mappedGroupCount == 0)
            #expect(state.group?.name == "IT-Admins")
            #expect(state.group?.mappings == [:])
            return .success(RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator]))
        }
        #expect(try mapped?.get().after == RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator]))
        _ = try await store.changeGroupRoles(name: "Content-Team", source: .oidc, audit: audit) { state in
            #expect(state.mappedGroupCount == 1)
            return .success(RoleAssignment(primary: .member, secondary: [.answersModerator]))
        }
        // A second source's mapping on a mapped group: its own row, the same group for the cap.
        _ = try await store.changeGroupRoles(name: "IT-Admins", source: .scim, audit: audit) { state in
            #expect(state.mappedGroupCount == 2)
            #expect(state.group?.mappings == [.oidc: RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator])])
            return .success(RoleAssignment(primary: .admin))
        }
        let groups = try await store.groups()
        #expect(groups.map(\.group.name) == ["Content-Team", "IT-Admins"])
        #expect(groups.map(\.memberCount) == [1, 1])
        #expect(groups.map { $0.membersBySource[.oidc] } == [1, 1])
        #expect(groups.map { $0.membersBySource[.scim] } == [0, 0])
        let itAdmins = try #require(try await store.group(named: "IT-Admins")?.group)
        #expect(itAdmins.mappings == [
            .oidc: RoleAssignment(primary: .setupAdmin, secondary: [.apiTokenCreator]), .scim: RoleAssignment(primary: .admin),
        ])
        #expect(itAdmins.mappingsToReview.isEmpty)
        let unchanged = try await store.changeGroupRoles(name: "Content-Team", source: .oidc, audit: audit) { state in
            #expect(state.mappedGroupCount == 2, "two groups carry mappings, one of them for both sources")
            return .success(RoleAssignment(primary: .member, secondary: [.answersModerator]))
        }
        #expect(unchanged != nil)
        let removed = try await store.changeGroupRoles(name: "IT-Admins", source: .oidc, audit: audit) { _ in .success(nil) }
        #expect(try removed?.get().before?.primary == .setupAdmin)
        #expect(try await store.group(named: "IT-Admins")?.group.mappings == [.scim: RoleAssignment(primary: .admin)])
        _ = try await store.changeGroupRoles(name: "IT-Admins", source: .scim, audit: audit) { _ in .success(nil) }
        #expect(try await store.group(named: "IT-Admins")?.group.isMapped == false)
        #expect(try await store.changeGroupRoles(name: "Nope", source: .scim, audit: audit) { _ in .success(nil) } == nil)
        let entries = try await store.auditEntries(AuditQuery(action: .groupRolesChanged))
        #expect(entries.count == 5, "an unchanged mapping is not audited")
        let first = try #require(entries.last)
        #expect(first.target == "IT-Admins")
        #expect(first.after?.objectValue?["source"] == .string("oidc"))
        #expect(first.after?.objectValue?["primary"] == .string("setup_admin"))
    }

    @Sendable static func holders(_ store: any GatewayStore) async throws {
        let root = try await store.ensureUser(email: "root@example.com", at: t0)
        #expect(try await store.bootstrapSuperAdmin(userID: root.id, force: false, audit: audit))
        _ = try await store.recordLogin(profile("sub-h1", "dee@example.com", groups: ["Ops"]), at: t0)
        _ = try await store.changeGroupRoles(name: "Ops", source: .oidc, audit: audit) { _ in .success(RoleAssignment(primary: .admin)) }
        let holders = try await store.roleHolders()
        #expect(holders.holders(of: .primary(.superAdmin)) == [.user("root@example.com")])
        #expect(holders.holders(of: .primary(.admin)) == [.group("Ops", .oidc)])
        #expect(holders.people(holding: .primary(.admin)) == ["dee@example.com"])
        #expect(holders.holders(of: .primary(.member)).isEmpty)
    }

    /// Issue 21: the last-holder rail counts people, so a role mapped only to an empty group
    /// (or to a group whose members came through the other source, or are deactivated) has no
    /// holder, and a super admin can still be bootstrapped past an empty super_admin group.
    @Sendable static func holdersArePeople(_ store: any GatewayStore) async throws {
        _ = try await store.changeGroupRoles(name: "Empty", source: .scim, audit: audit) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        _ = try await store.recordLogin(profile("sub-hp1", "claims@example.com", groups: ["Pilots"]), at: t0)
        _ = try await store.changeGroupRoles(name: "Pilots", source: .scim, audit: audit) { _ in
            .success(RoleAssignment(secondary: [.pinsModerator]))
        }
        let gone = try await store.provisionUser(ProvisionedUser(email: "gone@example.com"), audit: audit)
        _ = try await store.provisionGroup(draft("Inactive", members: [gone.id]), audit: audit)
        _ = try #require(try await store.updateProvisionedUser(
            id: gone.id, ProvisionedUser(email: "gone@example.com", active: false), expectedVersion: nil, audit: audit
        ))
        _ = try await store.changeGroupRoles(name: "Inactive", source: .scim, audit: audit) { _ in
            .success(RoleAssignment(secondary: [.answersModerator]))
        }
        let holders = try await store.roleHolders()
        #expect(holders.holders(of: .primary(.superAdmin)).isEmpty)
        #expect(holders.people(holding: .secondary(.pinsModerator)).isEmpty, "a claims member of a SCIM-mapped group holds nothing")
        #expect(holders.people(holding: .secondary(.answersModerator)).isEmpty, "a deactivated member holds nothing")
        let root = try await store.ensureUser(email: "root@example.com", at: t0)
        #expect(try await store.bootstrapSuperAdmin(userID: root.id, force: false, audit: audit), "an empty super_admin group is no super admin")
        // Inside a role change, the state counts the same people.
        _ = try await store.changeUserRoles(userID: root.id, audit: audit) { state in
            #expect(state.holders.people(holding: .primary(.superAdmin)) == ["root@example.com"])
            return .failure(RoleChangeRefusal(code: .lastRoleHolder, message: "only looking"))
        }
    }

    /// Issue 21: a mapping is for SCIM's members of a group or for those whose groups claim
    /// names it, never "any group with that name".
    @Sendable static func mappingsMatchSource(_ store: any GatewayStore) async throws {
        let claims = try await store.recordLogin(profile("sub-ms1", "claims@example.com", groups: ["Admins"]), at: t0)
        let pushed = try await store.provisionUser(ProvisionedUser(email: "pushed@example.com"), audit: audit)
        _ = try await store.provisionGroup(draft("Admins", members: [pushed.id]), audit: audit)
        _ = try await store.changeGroupRoles(name: "Admins", source: .scim, audit: audit) { _ in .success(RoleAssignment(primary: .admin)) }
        #expect(try await store.userIdentity(userID: pushed.id)?.effectiveRole.primary == .admin)
        let viaClaim = try #require(try await store.userIdentity(userID: claims.id))
        #expect(viaClaim.groups.map(\.name) == ["Admins"])
        #expect(viaClaim.groups.first?.sources == [.oidc])
        #expect(viaClaim.groups.first?.mappings == [.scim: RoleAssignment(primary: .admin)])
        #expect(viaClaim.effectiveRole.primary == .member, "the groups claim naming a SCIM-mapped group grants nothing")
        #expect(try await store.teammates(matching: TeammateQuery(text: "claims")).first?.effectiveRole.primary == .member)
        // And the other way round: a mapping for the claim gives nothing to SCIM's members.
        _ = try await store.changeGroupRoles(name: "Admins", source: .scim, audit: audit) { _ in .success(nil) }
        _ = try await store.changeGroupRoles(name: "Admins", source: .oidc, audit: audit) { _ in
            .success(RoleAssignment(secondary: [.pinsModerator]))
        }
        #expect(try await store.userIdentity(userID: claims.id)?.effectiveRole.secondary == [.pinsModerator])
        #expect(try await store.userIdentity(userID: pushed.id)?.effectiveRole.secondary == [])
        let holders = try await store.roleHolders()
        #expect(holders.people(holding: .secondary(.pinsModerator)) == ["claims@example.com"])
    }

    @Sendable static func teammateSearch(_ store: any GatewayStore) async throws {
        _ = try await store.recordLogin(LoginProfile(subject: "s1", email: "ada@example.com", name: "Ada Lovelace", department: "Engineering", groups: ["G1"]), at: t0)
        _ = try await store.recordLogin(LoginProfile(subject: "s2", email: "grace@example.com", name: "Grace Hopper", department: "Research"), at: t0)
        _ = try await store.recordLogin(LoginProfile(subject: "s3", email: "alan_t@example.com", name: "Alan Turing", department: "engineering"), at: t0)
        #expect(try await store.teammates(matching: TeammateQuery()).map(\.user.email) == ["ada@example.com", "alan_t@example.com", "grace@example.com"])
        #expect(try await store.teammates(matching: TeammateQuery(text: "HOPPER")).map(\.user.email) == ["grace@example.com"])
        #expect(try await store.teammates(matching: TeammateQuery(department: "Engineering")).map(\.user.email) == ["ada@example.com", "alan_t@example.com"])
        // LIKE wildcards in the query are literal text.
        #expect(try await store.teammates(matching: TeammateQuery(text: "n_t")).map(\.user.email) == ["alan_t@example.com"])
        #expect(try await store.teammates(matching: TeammateQuery(text: "%")).isEmpty)
        #expect(try await store.teammates(matching: TeammateQuery(text: "ada")).first?.groups.map(\.name) == ["G1"])
    }

    @Sendable static func bootstrap(_ store: any GatewayStore) async throws {
        let first = try await store.ensureUser(email: "First@Example.com", at: t0)
        #expect(try await store.ensureUser(email: "first@example.com", at: t0).id == first.id)
        #expect(try await store.bootstrapSuperAdmin(userID: first.id, force: false, audit: audit))
        let second = try await store.ensureUser(email: "second@example.com", at: t0)
        #expect(try await store.bootstrapSuperAdmin(userID: second.id, force: false, audit: audit) == false)
        #expect(try await store.user(id: second.id)?.directRoles.primary == nil)
        #expect(try await store.bootstrapSuperAdmin(userID: second.id, force: true, audit: audit))
        #expect(try await store.user(id: second.id)?.directRoles.primary == .superAdmin)
        let entries = try await store.auditEntries(AuditQuery(action: .superAdminBootstrapped))
        #expect(entries.count == 2)
        #expect(entries.first?.after?.objectValue?["forced"] == .bool(true))
    }

    @Sendable static func signOutEverywhere(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-s1", "eve@example.com"), at: t0)
        try await store.insertSession(session(40, user: user.id))
        try await store.insertSession(session(41, user: user.id))
        let token = APITokenRecord(id: "tok-1", ownerID: user.id, name: "ci", scope: .user, displayPrefix: "pct_abcdef", createdAt: t0, createdBy: "eve@example.com")
        try await store.insertAPIToken(token, secretHash: Array(repeating: 7, count: 32), audit: audit)
        let later = AuditContext(actor: "root@example.com", actorIsSuperAdmin: true, sourceIP: nil, at: t0.addingTimeInterval(60))
        let result = try await store.signOutEverywhere(userID: user.id, includeAPITokens: true, reason: "lost laptop", audit: later)
        #expect(Set(result.sessions) == [hash(40), hash(41)])
        #expect(result.tokens == 1)
        #expect(try await store.activeSessions(userID: user.id, now: t0).isEmpty)
        #expect(try await store.user(id: user.id)?.notBefore == t0.addingTimeInterval(60))
        #expect(try await store.apiToken(id: "tok-1")?.revokedAt == t0.addingTimeInterval(60))
        #expect(try await store.session(hash(40))?.revokedReason == "lost laptop")
        let again = try await store.signOutEverywhere(userID: user.id, includeAPITokens: false, reason: "again", audit: later)
        #expect(again.sessions.isEmpty && again.tokens == 0)
        #expect(try await store.auditEntries(AuditQuery(action: .sessionsSignedOut)).count == 2)
    }

    @Sendable static func apiTokens(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-t1", "fay@example.com"), at: t0)
        let secretHash: [UInt8] = (0..<32).map { UInt8($0) }
        let token = APITokenRecord(
            id: "tok-2", ownerID: user.id, name: "deploy", scope: .global, displayPrefix: "pct_123456", createdAt: t0,
            createdBy: "root@example.com", expiresAt: t0.addingTimeInterval(3_600)
        )
        try await store.insertAPIToken(token, secretHash: secretHash, audit: audit)
        let found = try #require(try await store.apiTokenIdentity(secretHash: secretHash))
        #expect(found.token == token)
        #expect(found.owner.user.email == "fay@example.com")
        #expect(try await store.apiTokenIdentity(secretHash: Array(repeating: 0, count: 32)) == nil)
        try await store.recordAPITokenUse(id: "tok-2", at: t0.addingTimeInterval(5))
        #expect(try await store.apiToken(id: "tok-2")?.lastUsedAt == t0.addingTimeInterval(5))
        #expect(try await store.apiTokens(ownerID: user.id).map(\.id) == ["tok-2"])
        #expect(try await store.apiTokens(ownerID: "other").isEmpty)
        #expect(try await store.revokeAPIToken(id: "tok-2", audit: audit))
        #expect(try await store.revokeAPIToken(id: "tok-2", audit: audit) == false)
        #expect(try await store.apiTokenIdentity(secretHash: secretHash)?.token.revokedAt == t0)
        #expect(try await store.auditLog().map(\.action) == [.apiTokenCreated, .apiTokenRevoked])
    }

    @Sendable static func greenlists(_ store: any GatewayStore) async throws {
        let list = Greenlist(name: "office", entries: [
            Greenlist.Entry(range: try IPRange(parsing: "198.51.100.0/24"), label: "hq"),
            Greenlist.Entry(range: try IPRange(parsing: "2001:db8::/32"), label: "vpn"),
        ])
        try await store.putGreenlist(list, audit: audit)
        #expect(try await store.storedGreenlists() == ["office": list])
        let smaller = Greenlist(name: "office", entries: [Greenlist.Entry(range: try IPRange(parsing: "198.51.100.7/32"), label: "desk")])
        try await store.putGreenlist(smaller, audit: audit)
        #expect(try await store.storedGreenlists()["office"] == smaller)
        try await store.setTenantGreenlist("office", audit: audit)
        #expect(try await store.tenantGreenlist() == "office")
        #expect(try await store.deleteGreenlist(named: "office", audit: audit))
        #expect(try await store.deleteGreenlist(named: "office", audit: audit) == false)
        #expect(try await store.storedGreenlists().isEmpty)
        // Deleting the tenant list clears the setting rather than leave it naming nothing.
        #expect(try await store.tenantGreenlist() == nil)
    }

    @Sendable static func auditLog(_ store: any GatewayStore) async throws {
        #expect(try await store.latestAuditSequence() == 0)
        for index in 0..<5 {
            let context = AuditContext(actor: index % 2 == 0 ? "a@example.com" : "b@example.com", actorIsSuperAdmin: false,
                                       sourceIP: "203.0.113.\(index)", at: t0.addingTimeInterval(Double(index) * 10))
            try await store.appendAudit(AuditEvent(context, action: .featureFlagsChanged, target: "t\(index)",
                                                   before: .bool(false), after: .object(["n": .number(Double(index))])))
        }
        let log = try await store.auditLog()
        #expect(log.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(try await store.latestAuditSequence() == 5)
        #expect(log.first?.previousHash == AuditEntry.genesisHash)
        for (earlier, later) in zip(log, log.dropFirst()) {
            #expect(later.previousHash == earlier.hash)
        }
        #expect(try await store.verifyAuditLog() == AuditVerification(entries: 5))
        // The export is the hashed text itself: each line's SHA-256 is the next one's link.
        let lines = try await store.exportAuditLog()
        #expect(lines.count == 5)
        for (line, entry) in zip(lines, log) {
            #expect(line.contains("\"sequence\":\(entry.sequence)"))
            #expect(line.contains(entry.previousHash))
        }
        #expect(try await store.auditEntries(AuditQuery(actor: "B@example.com")).map(\.sequence) == [4, 2])
        #expect(try await store.auditEntries(AuditQuery(since: t0.addingTimeInterval(25))).map(\.sequence) == [5, 4])
        #expect(try await store.auditEntries(AuditQuery(limit: 2)).map(\.sequence) == [5, 4])
        #expect(try await store.auditEntries(AuditQuery(action: .groupRolesChanged)).isEmpty)
        #expect(log[2].after == .object(["n": .number(2)]))
        #expect(log[2].sourceIP == "203.0.113.2")
    }

    @Sendable static func allActiveSessions(_ store: any GatewayStore) async throws {
        let a = try await store.recordLogin(profile("sub-x1", "x1@example.com"), at: t0)
        let b = try await store.recordLogin(profile("sub-x2", "x2@example.com"), at: t0)
        try await store.insertSession(session(60, user: a.id, at: t0))
        try await store.insertSession(session(61, user: b.id, at: t0.addingTimeInterval(10)))
        try await store.insertSession(session(62, user: b.id, at: t0, absolute: 5))
        _ = try await store.revokeSession(hash(60), at: t0, by: "test", reason: "test")
        #expect(try await store.activeSessions(now: t0.addingTimeInterval(20), limit: 10).map(\.idHash) == [hash(61)])
        // Counted the same way, and idle sessions are not active.
        #expect(try await store.countActiveSessions(now: t0.addingTimeInterval(20), idleTimeout: .seconds(3_600)) == 1)
        #expect(try await store.countActiveSessions(now: t0.addingTimeInterval(20), idleTimeout: .seconds(5)) == 0)
        #expect(try await store.countActiveSessions(now: t0.addingTimeInterval(1), idleTimeout: .seconds(3_600)) == 2)
    }
}
