import Foundation
import PortcullisCore
import Testing

/// Issue 21: the v6 migration gives every group mapping the source of membership it is for.
/// The same data at v4 and the same checks after, on SQLite and PostgreSQL.
enum MappingSourceMigration {
    /// A store at v4: mappings of groups whose members came through sign-in claims only
    /// (Claims), SCIM only (Pushed), both (Mixed), nobody in a group SCIM does not manage
    /// (Waiting: mapped before anyone arrived) or manages (Adopted), and an unmapped group.
    static let v4Data: [String] = [
        """
        INSERT INTO users (id, email, email_key, subject, created_at) VALUES
            ('u1', 'claims@example.com', 'claims@example.com', 's1', 0), ('u2', 'pushed@example.com', 'pushed@example.com', 's2', 0)
        """,
        """
        INSERT INTO groups (id, name, display_name, external_id, provisioned, created_at) VALUES
            ('g1', 'Claims', 'Claims', NULL, FALSE, 0), ('g2', 'Pushed', 'Pushed', 'okta-2', TRUE, 0),
            ('g3', 'Mixed', 'Mixed', 'okta-3', TRUE, 0), ('g4', 'Waiting', 'Waiting', NULL, FALSE, 0),
            ('g5', 'Adopted', 'Adopted', 'okta-5', TRUE, 0), ('g6', 'Unmapped', 'Unmapped', NULL, FALSE, 0)
        """,
        """
        INSERT INTO group_members (group_id, user_id, source) VALUES
            ('g1', 'u1', 'oidc'), ('g2', 'u2', 'scim'), ('g3', 'u1', 'oidc'), ('g3', 'u2', 'scim'), ('g6', 'u1', 'oidc')
        """,
        """
        INSERT INTO group_roles (group_id, primary_role, secondary, updated_at) VALUES
            ('g1', 'admin', '', 0), ('g2', NULL, 'pins_moderator', 0), ('g3', NULL, 'answers_moderator', 0),
            ('g4', NULL, 'insights_moderator', 0), ('g5', 'setup_admin', '', 0)
        """,
    ]

    static func group(_ store: any GatewayStore, _ name: String) async throws -> GroupRecord {
        let found = try await store.group(named: name)?.group
        return try #require(found)
    }

    static func check(_ store: any GatewayStore) async throws {
        let group = { @Sendable (name: String) in try await Self.group(store, name) }
        let admin = RoleAssignment(primary: .admin)
        let pins = RoleAssignment(secondary: [.pinsModerator])
        let answers = RoleAssignment(secondary: [.answersModerator])
        let insights = RoleAssignment(secondary: [.insightsModerator])
        // Kept for the source their members came through.
        #expect(try await group("Claims").mappings == [.oidc: admin])
        #expect(try await group("Pushed").mappings == [.scim: pins])
        #expect(try await group("Adopted").mappings == [.scim: RoleAssignment(primary: .setupAdmin)], "SCIM manages it")
        for name in ["Claims", "Pushed", "Adopted"] {
            #expect(try await group(name).mappingsToReview.isEmpty, "\(name)")
        }
        // Undecidable: kept for both, marked for an admin to choose.
        #expect(try await group("Mixed").mappings == [.oidc: answers, .scim: answers])
        #expect(try await group("Mixed").mappingsToReview == [.oidc, .scim])
        #expect(try await group("Waiting").mappings == [.oidc: insights, .scim: insights])
        #expect(try await group("Waiting").mappingsToReview == [.oidc, .scim])
        #expect(try await group("Unmapped").mappings.isEmpty)
        #expect(try await store.groups().filter(\.group.isMapped).count == 5)
        // Nobody loses a role they held.
        let claims = try #require(try await store.userIdentity(userID: "u1")).effectiveRole
        #expect(claims.primary == .admin && claims.secondary == [.answersModerator])
        let pushed = try #require(try await store.userIdentity(userID: "u2")).effectiveRole
        #expect(pushed.primary == .member && pushed.secondary == [.pinsModerator, .answersModerator])
        let holders = try await store.roleHolders()
        #expect(holders.people(holding: .primary(.admin)) == ["claims@example.com"])
        #expect(holders.people(holding: .secondary(.insightsModerator)).isEmpty, "Waiting has no members")
        // An admin's change to a group's mappings clears its marks, and the change takes effect.
        let audit = AuditContext(actor: "root@example.com", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        _ = try await store.changeGroupRoles(name: "Mixed", source: .oidc, audit: audit) { _ in .success(nil) }
        #expect(try await group("Mixed").mappings == [.scim: answers])
        #expect(try await group("Mixed").mappingsToReview.isEmpty)
        #expect(try await store.userIdentity(userID: "u1")?.effectiveRole.secondary == [])
        #expect(try await store.userIdentity(userID: "u2")?.effectiveRole.secondary == [.pinsModerator, .answersModerator])
        #expect(try await group("Waiting").mappingsToReview == [.oidc, .scim], "other groups keep theirs")
        #expect(try await store.verifyAuditLog().isIntact)
    }
}
