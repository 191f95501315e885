import PortcullisCore
import Testing

/// The one-line role descriptions of the console, derived from the permission matrix.
@Suite("Role summaries")
struct RoleSummaryTests {
    @Test("every secondary role's line names each permission it grants, and no other", arguments: SecondaryRole.allCases)
    func secondary(_ role: SecondaryRole) {
        let line = RoleSummary.line(for: role)
        #expect(line.hasPrefix("Lets them "))
        for permission in PermissionMatrix.permissions(granting: role).sorted {
            #expect(line.contains(permission.phrase.object), "\(role): \(line) says nothing of \(permission.rawValue)")
        }
        #expect(line.contains("Only a Super Admin may assign it.") == role.isSuperAdminOnly)
    }

    @Test("every primary role above member names what it adds to the role below", arguments: [PrimaryRole.setupAdmin, .admin, .superAdmin])
    func primary(_ role: PrimaryRole) throws {
        let line = RoleSummary.line(for: role)
        let lower = try #require(PrimaryRole.allCases.last { $0 < role })
        #expect(line.hasPrefix("What a") && line.contains(lower.displayName + " may do, and: "), "\(line)")
        let below = PermissionMatrix.permissions(of: lower, defaults: .allOn)
        for permission in PermissionMatrix.permissions(of: role, defaults: .allOn).sorted where !below.contains(permission) {
            // Its own phrase, or its area when the role gains the whole area ("manage … teammates").
            #expect(line.contains(permission.phrase.object) || line.contains(permission.areaName),
                    "\(role): \(line) says nothing of \(permission.rawValue)")
        }
    }

    @Test("lines read as the console shows them")
    func wording() {
        #expect(RoleSummary.line(for: .answersModerator) == "Lets them moderate answers.")
        #expect(RoleSummary.line(for: .insightsModerator) == "Lets them view insights and download insights as CSV.")
        #expect(RoleSummary.line(for: .setupAdmin) == "What a Member may do, and: manage data sources.")
        #expect(RoleSummary.line(for: .member).hasPrefix(
            "The default role: view content, create private pins, verify their own documents and edit their own team page; "
        ))
        #expect(RoleSummary.line(for: .member).contains("the default member permissions decide whether they may also create answers, collections,"))
        let admin = RoleSummary.line(for: .admin)
        #expect(admin.contains("moderate answers, collections, go links and pins"), "\(admin)")
        #expect(admin.contains("manage announcements") && admin.contains("teammates") && admin.contains("view the audit log"), "\(admin)")
        #expect(RoleSummary.line(for: .superAdmin)
            == "What an Admin may do, and: create global API tokens and see sensitive content reports. "
            + "Only a Super Admin may assign Super Admin, Admin Search and Sensitive Content Moderator.")
    }
}
