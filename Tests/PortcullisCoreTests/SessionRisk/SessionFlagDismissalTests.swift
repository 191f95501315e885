import Foundation
import PortcullisCore
import Testing

/// Issue 21: only a super admin may dismiss a flag on a super admin's session.
@Suite("Suspicious sessions: who may dismiss a flag")
struct SessionFlagDismissalTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func state(owner direct: RoleAssignment, groups: [GroupRecord] = [], flags: FeatureFlags = .defaults) throws -> SessionFlagDismissal.State {
        let hash = try #require(SessionIDHash(bytes: Array(repeating: 1, count: 32)))
        let flag = SessionFlag(
            id: "f1", sessionIDHash: hash, userID: "u1",
            evidence: .newCountry(.init(place: ObservedPlace(countryCode: "DE"), knownCountries: ["AU"], windowSeconds: 60)),
            action: .stepUp, raisedAt: t0
        )
        let owner = UserIdentity(
            user: UserRecord(id: "u1", email: "owner@example.com", directRoles: direct, createdAt: t0), groups: groups,
            defaults: .allOn, flags: flags
        )
        return SessionFlagDismissal.State(flag: flag, owner: owner)
    }

    @Test("an admin may not dismiss a flag on a super admin's session, direct or through a group; a super admin may")
    func superAdminSession() throws {
        let direct = try Self.state(owner: RoleAssignment(primary: .superAdmin))
        let refusal = try #require(SessionFlagDismissal.decide(actorIsSuperAdmin: false, direct))
        #expect(refusal.code == .superAdminProtected && refusal.status == 403 && refusal.message.contains("owner@example.com"))
        #expect(SessionFlagDismissal.decide(actorIsSuperAdmin: true, direct) == nil)
        let owners = GroupRecord(id: "g", name: "Owners", mappings: [.scim: RoleAssignment(primary: .superAdmin)], sources: [.scim])
        let viaGroup = try Self.state(owner: .none, groups: [owners])
        #expect(SessionFlagDismissal.decide(actorIsSuperAdmin: false, viaGroup)?.code == .superAdminProtected)
    }

    @Test("an admin may dismiss flags on everyone else's sessions")
    func otherSessions() throws {
        for role in [PrimaryRole.member, .setupAdmin, .admin] {
            #expect(SessionFlagDismissal.decide(actorIsSuperAdmin: false, try Self.state(owner: RoleAssignment(primary: role))) == nil)
        }
        // A claim naming a SCIM-mapped super_admin group makes no super admin (issue 21, item 9).
        let claimed = GroupRecord(id: "g", name: "Owners", mappings: [.scim: RoleAssignment(primary: .superAdmin)], sources: [.oidc])
        #expect(SessionFlagDismissal.decide(actorIsSuperAdmin: false, try Self.state(owner: .none, groups: [claimed])) == nil)
        var gone = try Self.state(owner: .none)
        gone.owner = nil
        #expect(SessionFlagDismissal.decide(actorIsSuperAdmin: false, gone) == nil)
    }
}
