import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Testing
import PortcullisDataPath

extension ServerTests {
/// Request shapes of real SCIM clients, verbatim from their documentation, and what they must
/// do to access: Microsoft Entra ID ("Use SCIM to provision users and groups": capitalised ops,
/// string booleans, `"$ref": null` members, an extra group schema) and Okta ("Okta and SCIM
/// Version 2.0": a PUT of the whole user on deactivation, membership by value filter).
@Suite("SCIM request shapes of Entra ID and Okta")
struct SCIMClientShapesTests {
    typealias Client = SCIMTests.Client

    @Test("Entra ID: create, query, multi- and single-valued updates, disable with \"False\", groups with $ref null, delete")
    func entra() async throws {
        let harness = try await SSOHarness.start(scimToken: SCIMTests.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let created = try await scim.call(.POST, "/Users", json: """
            {
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "active": true,
                "emails": [{
                    "primary": true,
                    "type": "work",
                    "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
                }],
                "meta": {
                    "resourceType": "User"
                },
                "name": {
                    "formatted": "givenName familyName",
                    "familyName": "familyName",
                    "givenName": "givenName"
                },
                "roles": []
            }
            """)
        #expect(created.status == .created, "\(created.body)")
        let id = try #require(created["id"] as? String)
        #expect(created["externalId"] as? String == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
        #expect((created["emails"] as? [[String: Any]])?.first?["type"] as? String == "work")
        #expect(created["roles"] == nil)
        let query = try await scim.call(.GET, "/Users?filter=" + SCIMTests.encoded(#"userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee""#))
        #expect(SCIMTests.ids(query) == [id])
        let none = try await scim.call(.GET, "/Users?filter=" + SCIMTests.encoded(#"userName eq "non-existent user""#))
        #expect(none["totalResults"] as? Int == 0 && (none["Resources"] as? [Any])?.isEmpty == true)
        let byEmail = try await scim.call(.GET, "/Users?filter=" + SCIMTests.encoded(#"emails[type eq "work"].value eq "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com""#))
        #expect(SCIMTests.ids(byEmail) == [id])
        let multi = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                        {
                        "op": "Replace",
                        "path": "emails[type eq \\"work\\"].value",
                        "value": "updatedEmail@microsoft.com"
                        },
                        {
                        "op": "Replace",
                        "path": "name.familyName",
                        "value": "updatedFamilyName"
                        }
                ]
            }
            """)
        #expect(multi.status == .ok, "\(multi.body)")
        #expect((multi["emails"] as? [[String: Any]])?.first?["value"] as? String == "updatedEmail@microsoft.com")
        #expect((multi["emails"] as? [[String: Any]])?.first?["primary"] as? Bool == true)
        #expect((multi["name"] as? [String: Any])?["familyName"] as? String == "updatedFamilyName")
        #expect((multi["name"] as? [String: Any])?["givenName"] as? String == "givenName")
        let single = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Replace",
                    "path": "userName",
                    "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
                }]
            }
            """)
        #expect(single["userName"] as? String == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")
        // The department arrives through the enterprise extension and shows on the teammates page.
        let department = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Marketing"},
              {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915-6090-4610-87e4-49d8ca9f808d"}]}
            """)
        #expect(department.status == .ok, "\(department.body)")
        #expect(try await harness.store.user(id: id)?.department == "Marketing")
        // The string boolean some Entra ID configurations send.
        let disabled = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}
            """)
        #expect(disabled["active"] as? Bool == false)
        let filtered = try await scim.call(.GET, "/Users?filter=" + SCIMTests.encoded(#"userName eq "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com""#))
        #expect((filtered["Resources"] as? [[String: Any]])?.first?["active"] as? Bool == false, "a disabled user shows active")
        let enabled = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {
                "Operations": [
                    {
                        "op": "Replace",
                        "path": "active",
                        "value": true
                    }
                ],
                "schemas": [
                    "urn:ietf:params:scim:api:messages:2.0:PatchOp"
                ]
            }
            """)
        #expect(enabled["active"] as? Bool == true)

        let group = try await scim.call(.POST, "/Groups", json: """
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": {
                    "resourceType": "Group"
                }
            }
            """)
        #expect(group.status == .created, "\(group.body)")
        let groupID = try #require(group["id"] as? String)
        let found = try await scim.call(.GET, "/Groups?excludedAttributes=members&filter=" + SCIMTests.encoded(#"displayName eq "displayName""#))
        #expect(SCIMTests.ids(found) == [groupID])
        #expect(try await scim.call(.GET, "/Groups/\(groupID)?excludedAttributes=members").status == .ok)
        let renamed = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
                }]
            }
            """)
        #expect(renamed.status == .noContent)
        let add = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Add",
                    "path": "members",
                    "value": [{
                        "$ref": null,
                        "value": "\(id)"
                    }]
                }]
            }
            """)
        #expect(add.status == .noContent, "\(add.body)")
        let afterAdd = try await scim.call(.GET, "/Groups/\(groupID)")
        #expect(afterAdd["displayName"] as? String == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName")
        #expect((afterAdd["members"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == [id])
        let remove = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Remove",
                    "path": "members",
                    "value": [{
                        "$ref": null,
                        "value": "\(id)"
                    }]
                }]
            }
            """)
        #expect(remove.status == .noContent)
        #expect(try await scim.call(.GET, "/Groups/\(groupID)")["members"] == nil)
        #expect(try await scim.call(.DELETE, "/Groups/\(groupID)").status == .noContent)
        #expect(try await scim.call(.DELETE, "/Users/\(id)").status == .noContent)
    }

    @Test("Okta: lookup, create, PUT of the whole user to update and to deactivate, PATCH deactivation, group push and membership")
    func okta() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        let browser = try harness.browser()
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await browser.shutdown(); await grace.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        // Grace signed in before; Okta finds her by userName and takes over her account.
        let lookup = try await scim.call(.GET, "/Users?filter=" + SCIMTests.encoded(#"userName eq "grace@example.com""#) + "&startIndex=1&count=100")
        let id = try #require(SCIMTests.ids(lookup).first)
        let put = try await scim.call(.PUT, "/Users/\(id)", json: """
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "\(id)",
                "userName": "grace@example.com",
                "name": {
                    "givenName": "Another",
                    "middleName": "Excited",
                    "familyName": "User"
                },
                "emails": [{
                    "primary": true,
                    "value": "grace@example.com",
                    "type": "work",
                    "display": "grace@example.com"
                }],
                "active": true,
                "groups": [],
                "meta": {
                    "resourceType": "User"
                }
            }
            """)
        #expect(put.status == .ok, "\(put.body)")
        #expect((put["name"] as? [String: String]) == ["givenName": "Another", "middleName": "Excited", "familyName": "User"])
        #expect((put["emails"] as? [[String: Any]])?.first?["display"] as? String == "grace@example.com")
        #expect(try await grace.request(harness.url("/echo")).status == .ok)
        // Custom (AIW) integrations deactivate with a PUT of the whole user.
        let deactivated = try await scim.call(.PUT, "/Users/\(id)", json: """
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "\(id)",
                "userName": "grace@example.com",
                "name": {
                    "givenName": "Another",
                    "middleName": "",
                    "familyName": "User"
                },
                "emails": [{
                    "primary": true,
                    "value": "grace@example.com",
                    "type": "work",
                    "display": "grace@example.com"
                }],
                "active": false,
                "groups": [],
                "meta": {
                    "resourceType": "User"
                }
            }
            """)
        #expect(deactivated["active"] as? Bool == false)
        #expect((deactivated["name"] as? [String: String])?["middleName"] == nil, "an empty string clears the value")
        let refused = try await grace.request(harness.url("/echo"), accept: "application/json")
        #expect(refused.status == .unauthorized, "the session ended at once: \(refused.status)")
        #expect(try await harness.store.activeSessions(userID: id, now: Date()).isEmpty)
        // OIN integrations reactivate and deactivate with a PATCH without a path.
        let reactivated = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "replace",
                    "value": {
                        "active": true
                    }
                }]
            }
            """)
        #expect(reactivated["active"] as? Bool == true)

        let other = try #require(try await scim.call(.POST, "/Users", json: #"{"userName":"test.user@okta.local","active":true}"#)["id"] as? String)
        let pushed = try await scim.call(.POST, "/Groups", json: """
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Test SCIMv2",
                "members": []
            }
            """)
        #expect(pushed.status == .created)
        let groupID = try #require(pushed["id"] as? String)
        let name = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "replace",
                    "value": {
                        "id": "\(groupID)",
                        "displayName": "Test SCIMv2"
                    }
                }]
            }
            """)
        #expect(name.status == .noContent, "\(name.body)")
        _ = try await scim.call(.PATCH, "/Groups/\(groupID)", json: #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"\#(id)"}]}]}"#)
        let membership = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                      "op": "remove",
                      "path": "members[value eq \\"\(id)\\"]"
                    },
                    {
                      "op": "add",
                      "path": "members",
                      "value": [{
                          "value": "\(other)",
                          "display": "test.user@okta.local"
                    }]
                }]
            }
            """)
        #expect(membership.status == .noContent, "\(membership.body)")
        let members = try await scim.call(.GET, "/Groups/\(groupID)")
        #expect((members["members"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == [other])
        let pages = try await scim.call(.GET, "/Groups?startIndex=1&count=100")
        #expect(pages["totalResults"] as? Int == 1 && pages["itemsPerPage"] as? Int == 1)
    }

    @Test("deprovisioning is instant and total: active false, DELETE, and removal from a group that carried a role")
    func deprovisioning() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        let browser = try harness.browser()
        let scim = Client(harness: harness, browser: browser)
        let (sam, _) = try await harness.signedIn("sam@example.com")
        let (grace, _) = try await harness.signedIn("grace@example.com")
        let (ada, _) = try await harness.signedIn("ada@example.com")
        defer { Task { await browser.shutdown(); await sam.shutdown(); await grace.shutdown(); await ada.shutdown(); await harness.stop() } }
        let samID = try await scim.id(ofUser: "sam@example.com")
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let adaID = try await scim.id(ofUser: "ada@example.com")
        let group = try await scim.call(.POST, "/Groups", json: #"{"displayName":"Moderators","members":[{"value":"\#(samID)"}]}"#)
        let groupID = try #require(group["id"] as? String)
        _ = try await harness.store.changeGroupRoles(
            name: "Moderators", source: .scim, audit: AuditContext(actor: "test", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        ) { _ in .success(RoleAssignment(secondary: [.answersModerator])) }
        harness.assembly.policyVersion.bump()
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .forbidden)
        #expect(try await scim.patch("/Groups/\(groupID)", #"[{"op":"add","path":"members","value":[{"value":"\#(graceID)"}]}]"#).status == .noContent)
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .ok)
        #expect(try await scim.patch("/Groups/\(groupID)", #"[{"op":"remove","path":"members[value eq \"\#(graceID)\"]"}]"#).status == .noContent)
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .forbidden)

        // Deactivation ends Sam's session on the very next request.
        #expect(try await sam.request(harness.url("/echo")).status == .ok)
        #expect(try await scim.patch("/Users/\(samID)", #"[{"op":"replace","path":"active","value":false}]"#).status == .ok)
        #expect(try await sam.request(harness.url("/echo"), accept: "application/json").status == .unauthorized)
        #expect(try await harness.store.activeSessions(userID: samID, now: Date()).isEmpty)
        // Deleting Ada ends hers.
        #expect(try await ada.request(harness.url("/echo")).status == .ok)
        #expect(try await scim.call(.DELETE, "/Users/\(adaID)").status == .noContent)
        #expect(try await ada.request(harness.url("/echo"), accept: "application/json").status == .unauthorized)
    }

    /// SCIM runs the rules of a direct role change (issue 12): it is never a super admin, so it
    /// cannot take `super_admin` from anyone, and the last holder of a role cannot disappear.
    @Test("SCIM cannot demote a super admin through membership, nor delete the group that makes them one")
    func safetyRails() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        let browser = try harness.browser()
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await browser.shutdown(); await grace.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let owners = try #require(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Owners","members":[{"value":"\#(graceID)"}]}"#)["id"] as? String)
        _ = try await harness.store.changeGroupRoles(
            name: "Owners", source: .scim, audit: AuditContext(actor: "test", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        ) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        harness.assembly.policyVersion.bump()
        #expect(try await harness.store.userIdentity(userID: graceID)?.effectiveRole.primary == .superAdmin)
        let attempts: [(HTTPMethod, String)] = [
            (.PATCH, #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"\#(graceID)\"]"}]}"#),
            (.PATCH, #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[]}]}"#),
            (.PUT, #"{"displayName":"Owners","members":[]}"#),
            (.DELETE, ""),
        ]
        for (method, body) in attempts {
            let answer = try await scim.call(method, "/Groups/\(owners)", json: body.isEmpty ? nil : body)
            #expect(SCIMTests.isError(answer, .forbidden), "\(method): \(answer.status) \(answer.body)")
            #expect((answer["detail"] as? String)?.contains("super admin") == true)
        }
        #expect(try await harness.store.userIdentity(userID: graceID)?.effectiveRole.primary == .superAdmin)
        #expect(try await harness.store.roleHolders().holders(of: .primary(.superAdmin)) == [.group("Owners", .scim)])
        // Once a super admin makes her one directly, SCIM may take the group away.
        _ = try await harness.store.changeUserRoles(
            userID: graceID, audit: AuditContext(actor: "root@example.com", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        ) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        #expect(try await scim.call(.DELETE, "/Groups/\(owners)").status == .noContent)
        // The mapped group stays, so re-provisioning restores it; empty, it holds nothing.
        #expect(try await harness.store.roleHolders().holders(of: .primary(.superAdmin)) == [.user("grace@example.com")])
        #expect(try await harness.store.group(named: "Owners")?.group.mappings[.scim]?.primary == .superAdmin)
    }

    @Test("a mapping may name a group SCIM has not created yet; it fills up when provisioned")
    func mappingBeforeProvisioning() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: SCIMTests.token)
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (grace, _) = try await harness.signedIn("grace@example.com")
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await grace.shutdown(); await root.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let mapped = try await root.call(.PUT, "/groups/Answer%20Moderators/roles", json: #"{"source":"scim","secondary":["answers_moderator"]}"#)
        #expect(mapped.status == .ok, "\(mapped.body)")
        #expect(try await scim.call(.GET, "/Groups")["totalResults"] as? Int == 0)
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .forbidden)
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let created = try await scim.call(.POST, "/Groups", json: #"{"displayName":"Answer Moderators","members":[{"value":"\#(graceID)"}]}"#)
        #expect(created.status == .created, "\(created.body)")
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .ok)
        let groups = try await root.call(.GET, "/groups")
        let listed = (groups["groups"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "Answer Moderators" }
        #expect(listed?["members"] as? Int == 1, "\(groups.body)")
        #expect(listed?["provisioned"] as? Bool == true)
    }
}
}
