import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisServer
import Testing
import PortcullisDataPath
import PortcullisControlPlane
import PortcullisDevelopment

extension ServerTests {
/// SCIM 2.0 over HTTPS through the gateway (RFC 7643/7644).
@Suite("SCIM provisioning")
struct SCIMTests {
    static let token = "scim-test-token-" + String(repeating: "x", count: 32)

    struct Client {
        let harness: SSOHarness
        let browser: TestBrowser
        var token: String? = SCIMTests.token

        func call(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> AdminClient.Answer {
            var headers: [(String, String)] = []
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            let page = try await browser.request(
                harness.url("/_portcullis/scim/v2" + path), method: method, headers: headers, json: json, accept: "application/scim+json"
            )
            let object = (try? JSONSerialization.jsonObject(with: Data(page.body.utf8))) as? [String: Any] ?? [:]
            return AdminClient.Answer(status: page.status, json: object, body: page.body, headers: page.headers)
        }

        func id(ofUser email: String) async throws -> String {
            let found = try await call(.GET, "/Users?filter=" + "userName eq \"\(email)\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            let resources = try #require(found["Resources"] as? [[String: Any]])
            return try #require(resources.first?["id"] as? String)
        }
    }

    static func encoded(_ filter: String) -> String {
        filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test("tokens, discovery, users: create, duplicate, filter, page, replace, patch, delete; SCIM errors")
    func users() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        var scim = Client(harness: harness, browser: browser)

        // No token, a wrong token: 401 with a SCIM error body.
        scim.token = nil
        let anonymous = try await scim.call(.GET, "/Users")
        #expect(anonymous.status == .unauthorized)
        #expect((anonymous["schemas"] as? [String])?.first == "urn:ietf:params:scim:api:messages:2.0:Error")
        #expect(anonymous.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
        scim.token = "wrong"
        #expect(try await scim.call(.GET, "/Users").status == .unauthorized)
        scim.token = Self.token

        let config = try await scim.call(.GET, "/ServiceProviderConfig")
        #expect((config["patch"] as? [String: Any])?["supported"] as? Bool == true)
        #expect(((try await scim.call(.GET, "/ResourceTypes"))["Resources"] as? [Any])?.count == 2)
        #expect(((try await scim.call(.GET, "/Schemas"))["totalResults"] as? Int) == 3)
        #expect(try await scim.call(.GET, "/ResourceTypes/Nope").status == .notFound)

        let created = try await scim.call(.POST, "/Users", json: """
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"okta-1",
             "name":{"givenName":"Alice","familyName":"Liddell"},"active":true,
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Wonderland"}}
            """)
        #expect(created.status == .created, "\(created.body)")
        let id = try #require(created["id"] as? String)
        #expect(created.headers.first(name: "location")?.hasSuffix("/Users/\(id)") == true)
        #expect(created["displayName"] as? String == "Alice Liddell")
        #expect((created["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] as? [String: Any])?["department"] as? String == "Wonderland")
        #expect(created.headers.first(name: "content-type") == "application/scim+json")

        let duplicate = try await scim.call(.POST, "/Users", json: #"{"userName":"ALICE@example.com"}"#)
        #expect(duplicate.status == .conflict)
        #expect(duplicate["scimType"] as? String == "uniqueness")

        let filtered = try await scim.call(.GET, "/Users?filter=" + Self.encoded(#"userName eq "alice@example.com""#))
        #expect(filtered["totalResults"] as? Int == 1)
        #expect(try await scim.call(.GET, "/Users?filter=" + Self.encoded(#"externalId eq "okta-1""#))["totalResults"] as? Int == 1)
        #expect(try await scim.call(.GET, "/Users?filter=" + Self.encoded(#"userName eq "nobody@example.com""#))["totalResults"] as? Int == 0)
        for bad in [#"userName co "a""#, #"title eq "x""#, #"userName eq alice"#, "userName eq \"a\" or 1 eq 1"] {
            let refused = try await scim.call(.GET, "/Users?filter=" + Self.encoded(bad))
            #expect(refused.status == .badRequest, "\(bad)")
            #expect(refused["scimType"] as? String == "invalidFilter", "\(bad)")
        }
        _ = try await scim.call(.POST, "/Users", json: #"{"userName":"bob@example.com"}"#)
        let page = try await scim.call(.GET, "/Users?startIndex=2&count=1")
        #expect(page["totalResults"] as? Int == 2)
        #expect(page["itemsPerPage"] as? Int == 1)
        #expect(((page["Resources"] as? [[String: Any]])?.first?["userName"] as? String) == "bob@example.com")

        let replaced = try await scim.call(.PUT, "/Users/\(id)", json: #"{"userName":"alice@example.com","displayName":"Alice L.","active":true}"#)
        #expect(replaced["displayName"] as? String == "Alice L.")
        let patched = try await scim.call(.PATCH, "/Users/\(id)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
              {"op":"Replace","path":"active","value":"False"},
              {"op":"replace","value":{"displayName":"Alice Gone"}},
              {"op":"add","path":"phoneNumbers","value":[{"value":"555"}]}]}
            """)
        #expect(patched.status == .ok, "\(patched.body)")
        #expect(patched["active"] as? Bool == false)
        #expect(patched["displayName"] as? String == "Alice Gone")

        // Hostile and malformed bodies.
        let cases: [(HTTPMethod, String, String, String)] = [
            (.POST, "/Users", "not json", "invalidSyntax"),
            (.POST, "/Users", #"{"name":{"formatted":"No Username"}}"#, "invalidValue"),
            (.POST, "/Users", #"{"userName":"a\u0000b@example.com"}"#, "invalidValue"),
            (.POST, "/Users", "{\"userName\":\"" + String(repeating: "a", count: 300) + "@example.com\"}", "invalidValue"),
            (.PATCH, "/Users/\(id)", #"{"Operations":[{"op":"replace","path":"active","value":false}]}"#, "invalidSyntax"),
            (.PATCH, "/Users/\(id)", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"explode","path":"active"}]}"#, "invalidSyntax"),
            (.PATCH, "/Users/\(id)", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}"#, "mutability"),
            (.PATCH, "/Users/\(id)", #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"maybe"}]}"#, "invalidValue"),
        ]
        for (method, path, body, type) in cases {
            let answer = try await scim.call(method, path, json: body)
            #expect(answer.status == .badRequest, "\(path) \(body.prefix(80)): \(answer.body)")
            #expect(answer["scimType"] as? String == type, "\(path) \(body.prefix(80)): \(answer.body)")
        }

        #expect(try await scim.call(.DELETE, "/Users/\(id)").status == .noContent)
        #expect(try await scim.call(.GET, "/Users/\(id)").status == .notFound)
        #expect(try await scim.call(.DELETE, "/Users/\(id)").status == .notFound)
        let audit = try await harness.store.auditEntries(AuditQuery(actor: "scim"))
        #expect(audit.contains { $0.action == .userDeprovisioned && $0.target == "alice@example.com" })
    }

    @Test("deactivating a signed-in user ends their session at once; group membership changes effective roles at once")
    func deprovisioningAndGroups() async throws {
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes, scimToken: Self.token)
        let browser = try harness.browser()
        let scim = Client(harness: harness, browser: browser)
        let (sam, _) = try await harness.signedIn("sam@example.com")
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await browser.shutdown(); await sam.shutdown(); await grace.shutdown(); await harness.stop() } }

        // Groups: a SCIM group mapped to a role; adding Grace grants it on her next request.
        let samID = try await scim.id(ofUser: "sam@example.com")
        let graceID = try await scim.id(ofUser: "grace@example.com")
        let group = try await scim.call(.POST, "/Groups", json: #"{"displayName":"Moderators","members":[{"value":"\#(samID)"}]}"#)
        #expect(group.status == .created, "\(group.body)")
        let groupID = try #require(group["id"] as? String)
        _ = try await harness.store.changeGroupRoles(
            name: "Moderators", audit: AuditContext(actor: "test", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        ) { _ in .success(RoleAssignment(secondary: [.answersModerator])) }
        harness.assembly.policyVersion.bump()
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .forbidden)
        let added = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"\(graceID)"}]}]}
            """)
        #expect(added.status == .ok, "\(added.body)")
        #expect((added["members"] as? [Any])?.count == 2)
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .ok)
        let removed = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \\"\(graceID)\\"]"}]}
            """)
        #expect(removed.status == .ok, "\(removed.body)")
        #expect(try await grace.request(harness.url("/answers/moderate")).status == .forbidden)
        let filtered = try await scim.call(.GET, "/Groups?filter=" + Self.encoded(#"displayName eq "Moderators""#))
        #expect(filtered["totalResults"] as? Int == 1)
        let renamed = try await scim.call(.PATCH, "/Groups/\(groupID)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Answer Moderators"}]}
            """)
        #expect(renamed["displayName"] as? String == "Answer Moderators")
        #expect(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Answer Moderators"}"#)["scimType"] as? String == "uniqueness")

        // Deactivation ends Sam's session on the very next request.
        #expect(try await sam.request(harness.url("/echo")).status == .ok)
        let off = try await scim.call(.PATCH, "/Users/\(samID)", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}
            """)
        #expect(off.status == .ok, "\(off.body)")
        let after = try await sam.request(harness.url("/echo"), accept: "application/json")
        #expect(after.status == .unauthorized || after.status == .forbidden || after.status == .found, "\(after.status)")
        #expect(try await harness.store.activeSessions(userID: samID, now: Date()).isEmpty)
        #expect(try await scim.call(.DELETE, "/Groups/\(groupID)").status == .noContent)
    }
}
}
