import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing
import PortcullisDataPath

extension ServerTests {
/// SCIM 2.0 over HTTPS through the gateway (RFC 7643/7644), class by class: the conformance
/// suite of our own. Request shapes of real clients are in ``SCIMClientShapesTests``.
@Suite("SCIM provisioning")
struct SCIMTests {
    static let token = "scim-test-token-" + String(repeating: "x", count: 32)
    static let patchOp = #""schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]"#
    static let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

    struct Client {
        let harness: SSOHarness
        let browser: TestBrowser
        var token: String? = SCIMTests.token

        func call(_ method: HTTPMethod, _ path: String, json: String? = nil, headers extra: [(String, String)] = []) async throws -> AdminClient.Answer {
            var headers = extra
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            let page = try await browser.request(
                harness.url("/_portcullis/scim/v2" + path), method: method, headers: headers, json: json, accept: "application/scim+json"
            )
            let object = (try? JSONSerialization.jsonObject(with: Data(page.body.utf8))) as? [String: Any] ?? [:]
            return AdminClient.Answer(status: page.status, json: object, body: page.body, headers: page.headers)
        }

        func id(ofUser email: String) async throws -> String {
            let found = try await call(.GET, "/Users?filter=" + SCIMTests.encoded("userName eq \"\(email)\""))
            let resources = try #require(found["Resources"] as? [[String: Any]])
            return try #require(resources.first?["id"] as? String)
        }

        func patch(_ path: String, _ operations: String, headers: [(String, String)] = []) async throws -> AdminClient.Answer {
            try await call(.PATCH, path, json: "{\(SCIMTests.patchOp),\"Operations\":\(operations)}", headers: headers)
        }
    }

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    static func isError(_ answer: AdminClient.Answer, _ status: HTTPResponseStatus, _ scimType: String? = nil) -> Bool {
        answer.status == status && (answer["schemas"] as? [String]) == ["urn:ietf:params:scim:api:messages:2.0:Error"]
            && answer["status"] as? String == String(status.code) && answer["scimType"] as? String == scimType
            && answer.headers.first(name: "content-type") == "application/scim+json"
    }

    static func ids(_ answer: AdminClient.Answer) -> [String] {
        (answer["Resources"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    static func userNames(_ answer: AdminClient.Answer) -> [String] {
        (answer["Resources"] as? [[String: Any]] ?? []).compactMap { $0["userName"] as? String }
    }

    @Test("tokens, unknown paths (404) and unsupported methods (405) answer SCIM errors")
    func errorsAndMethods() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        var scim = Client(harness: harness, browser: browser)
        scim.token = nil
        let anonymous = try await scim.call(.GET, "/Users")
        #expect(Self.isError(anonymous, .unauthorized))
        #expect(anonymous.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
        scim.token = "wrong"
        #expect(Self.isError(try await scim.call(.GET, "/Users"), .unauthorized))
        scim.token = Self.token

        for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/ResourceTypes/User",
                     "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"] {
            for method in [HTTPMethod.POST, .PUT, .PATCH, .DELETE] {
                let answer = try await scim.call(method, path, json: "{}")
                #expect(Self.isError(answer, .methodNotAllowed), "\(method) \(path): \(answer.status) \(answer.body)")
                #expect(answer.headers.first(name: "allow")?.contains("GET") == true)
            }
        }
        #expect(Self.isError(try await scim.call(.PUT, "/Users", json: "{}"), .methodNotAllowed))
        #expect(Self.isError(try await scim.call(.DELETE, "/Groups"), .methodNotAllowed))
        #expect(Self.isError(try await scim.call(.GET, "/Users/.search"), .methodNotAllowed))
        #expect(Self.isError(try await scim.call(.POST, "/Users/some-id", json: "{}"), .methodNotAllowed))
        for path in ["", "/", "/Nope", "/Users/a/b", "/Bulk", "/Me", "/ResourceTypes/Nope", "/Schemas/urn:nope", "/Users/missing", "/Groups/missing"] {
            let answer = try await scim.call(.GET, path)
            #expect(Self.isError(answer, .notFound), "\(path): \(answer.status) \(answer.body)")
        }
    }

    @Test("discovery tells the truth: patch, filter (200), sort, etag; no bulk, no password change; schemas and types")
    func discovery() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let config = try await scim.call(.GET, "/ServiceProviderConfig")
        func supported(_ name: String) -> Bool? { (config[name] as? [String: Any])?["supported"] as? Bool }
        #expect(supported("patch") == true && supported("sort") == true && supported("etag") == true && supported("filter") == true)
        #expect(supported("bulk") == false && supported("changePassword") == false)
        #expect((config["filter"] as? [String: Any])?["maxResults"] as? Int == 200)
        let types = try await scim.call(.GET, "/ResourceTypes")
        #expect(Set(Self.ids(types)) == ["User", "Group"])
        let user = try await scim.call(.GET, "/ResourceTypes/User")
        #expect((user["schemaExtensions"] as? [[String: Any]])?.first?["schema"] as? String == Self.enterprise)
        #expect((user["meta"] as? [String: Any])?["location"] as? String == harness.url("/_portcullis/scim/v2/ResourceTypes/User"))
        let schemas = try await scim.call(.GET, "/Schemas")
        #expect(schemas["totalResults"] as? Int == 3)
        let enterprise = try await scim.call(.GET, "/Schemas/" + Self.enterprise)
        let names = (enterprise["attributes"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(Set(names).isSuperset(of: ["department", "manager", "employeeNumber"]))
    }

    @Test("users: create with meta and ETag, uniqueness, look-alikes, replace clears, delete")
    func users() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let created = try await scim.call(.POST, "/Users", json: """
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","\(Self.enterprise)"],"userName":"alice@example.com","externalId":"okta-1",
             "name":{"givenName":"Alice","familyName":"Liddell"},"title":"Explorer","active":true,
             "emails":[{"value":"alice@example.com","type":"work","primary":true}],
             "\(Self.enterprise)":{"department":"Wonderland","employeeNumber":"42","manager":{"value":"queen"}}}
            """)
        #expect(created.status == .created, "\(created.body)")
        let id = try #require(created["id"] as? String)
        let meta = try #require(created["meta"] as? [String: Any])
        #expect(meta["resourceType"] as? String == "User")
        #expect(meta["location"] as? String == harness.url("/_portcullis/scim/v2/Users/\(id)"))
        #expect(created.headers.first(name: "location") == meta["location"] as? String)
        #expect(meta["version"] as? String == "W/\"1\"")
        #expect(created.headers.first(name: "etag") == "W/\"1\"")
        #expect((meta["created"] as? String)?.hasSuffix("Z") == true && meta["lastModified"] as? String == meta["created"] as? String)
        #expect(created["title"] as? String == "Explorer")
        #expect((created["schemas"] as? [String])?.contains(Self.enterprise) == true)
        let extensionValues = try #require(created[Self.enterprise] as? [String: Any])
        #expect(extensionValues["department"] as? String == "Wonderland" && extensionValues["employeeNumber"] as? String == "42")
        #expect((extensionValues["manager"] as? [String: Any])?["value"] as? String == "queen")
        // The department feeds the teammates page.
        #expect(try await harness.store.user(id: id)?.department == "Wonderland")
        #expect(try await harness.store.user(id: id)?.name == "Alice Liddell")

        #expect(Self.isError(try await scim.call(.POST, "/Users", json: #"{"userName":"ALICE@example.com"}"#), .conflict, "uniqueness"))
        // ASCII case folding only: U+212A KELVIN SIGN folds onto an existing account and is refused.
        #expect(try await scim.call(.POST, "/Users", json: #"{"userName":"kelvin@example.com"}"#).status == .created)
        let kelvin = try await scim.call(.POST, "/Users", json: "{\"userName\":\"\u{212A}elvin@example.com\"}")
        #expect(Self.isError(kelvin, .conflict, "uniqueness"), "\(kelvin.body)")
        #expect(Self.ids(try await scim.call(.GET, "/Users?filter=" + Self.encoded("userName eq \"\u{212A}elvin@example.com\""))).isEmpty)
        _ = try await scim.call(.POST, "/Users", json: #"{"userName":"dora@example.com"}"#)
        let dora = try await scim.call(.POST, "/Users", json: "{\"userName\":\"DOR\u{FF21}@example.com\"}")
        #expect(Self.isError(dora, .conflict, "uniqueness"), "a fullwidth look-alike of an existing account: \(dora.body)")

        // PUT replaces: what is left out is cleared; read-only attributes sent are ignored.
        let replaced = try await scim.call(.PUT, "/Users/\(id)", json: """
            {"id":"ignored","meta":{"version":"W/\\"99\\""},"userName":"alice@example.com","displayName":"Alice L.","active":true,"groups":[{"value":"x"}]}
            """)
        #expect(replaced.status == .ok, "\(replaced.body)")
        #expect(replaced["displayName"] as? String == "Alice L.")
        #expect(replaced["title"] == nil && replaced[Self.enterprise] == nil && replaced["groups"] == nil)
        #expect((replaced["meta"] as? [String: Any])?["version"] as? String == "W/\"2\"")
        #expect(try await harness.store.user(id: id)?.department == nil)

        #expect(try await scim.call(.DELETE, "/Users/\(id)").status == .noContent)
        #expect(Self.isError(try await scim.call(.GET, "/Users/\(id)"), .notFound))
        #expect(Self.isError(try await scim.call(.DELETE, "/Users/\(id)"), .notFound))
        let audit = try await harness.store.auditEntries(AuditQuery(actor: "scim"))
        #expect(audit.contains { $0.action == .userDeprovisioned && $0.target == "alice@example.com" })
    }

    @Test("bad input: every class answers 400 with the right scimType and changes nothing")
    func badInput() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let id = try #require(try await scim.call(.POST, "/Users", json: #"{"userName":"bob@example.com","title":"Builder"}"#)["id"] as? String)
        let cases: [(HTTPMethod, String, String?, String)] = [
            (.POST, "/Users", "not json", "invalidSyntax"),
            (.POST, "/Users", "[1,2]", "invalidSyntax"),
            (.POST, "/Users", #"{"name":{"formatted":"No Username"}}"#, "invalidValue"),
            (.POST, "/Users", #"{"userName":"a\u0000b@example.com"}"#, "invalidValue"),
            (.POST, "/Users", "{\"userName\":\"" + String(repeating: "a", count: 300) + "@example.com\"}", "invalidValue"),
            (.POST, "/Users", #"{"userName":"x@example.com","active":"sometimes"}"#, "invalidValue"),
            (.POST, "/Groups", #"{"members":[]}"#, "invalidValue"),
            (.POST, "/Groups", #"{"displayName":"G","members":[{"value":"no-such-user"}]}"#, "invalidValue"),
            (.POST, "/Groups", #"{"displayName":"G","members":[{"value":"x","type":"Group"}]}"#, "invalidValue"),
            (.PATCH, "/Users/\(id)", #"{"Operations":[{"op":"replace","path":"active","value":false}]}"#, "invalidSyntax"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"explode\",\"path\":\"active\"}]}", "invalidSyntax"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"remove\",\"path\":\"userName\"}]}", "mutability"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}]}", "mutability"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"replace\",\"path\":\"nope\",\"value\":\"x\"}]}", "invalidPath"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq\",\"value\":\"x\"}]}", "invalidPath"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"remove\"}]}", "noTarget"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"]\",\"value\":{\"value\":\"h@x.org\"}}]}", "noTarget"),
            (.PATCH, "/Users/\(id)", "{\(Self.patchOp),\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}]}", "invalidValue"),
            (.GET, "/Users?filter=" + Self.encoded("userName eq"), nil, "invalidFilter"),
            (.GET, "/Users?filter=" + Self.encoded("nope eq \"x\""), nil, "invalidFilter"),
            (.GET, "/Users?filter=" + Self.encoded("active gt true"), nil, "invalidFilter"),
            (.GET, "/Users?filter=" + Self.encoded(String(repeating: "(", count: 40) + "userName pr" + String(repeating: ")", count: 40)), nil, "invalidFilter"),
            (.GET, "/Users?sortOrder=sideways", nil, "invalidValue"),
            (.GET, "/Users?count=lots", nil, "invalidValue"),
            (.GET, "/Users?attributes=userName&excludedAttributes=title", nil, "invalidSyntax"),
            (.POST, "/Users/.search", #"{"schemas":["urn:wrong"]}"#, "invalidSyntax"),
            (.POST, "/.search", #"{"filter":"nothing eq \"x\""}"#, "invalidFilter"),
        ]
        for (method, path, body, type) in cases {
            let answer = try await scim.call(method, path, json: body)
            #expect(Self.isError(answer, .badRequest, type), "\(method) \(path) \(body?.prefix(80) ?? ""): \(answer.status) \(answer.body)")
        }
        let big = "{\"userName\":\"big@example.com\",\"title\":\"" + String(repeating: "x", count: 2_000_000) + "\"}"
        #expect(try await scim.call(.POST, "/Users", json: big).status == .payloadTooLarge)
        let after = try await scim.call(.GET, "/Users/\(id)")
        #expect(after["title"] as? String == "Builder" && after["active"] == nil, "nothing changed: \(after.body)")
        #expect(try await scim.call(.GET, "/Groups")["totalResults"] as? Int == 0)
    }

    @Test("filters, sorting, paging, attributes and excludedAttributes, .search on every endpoint")
    func queries() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let people: [(String, String, String, Bool)] = [
            ("carol@example.com", "Danvers", "Engineering", true), ("bob@example.org", "Builder", "Sales", true),
            ("dave@example.com", "Grohl", "Sales", false), ("erin@example.net", "Brockovich", "Legal", true),
        ]
        for (email, family, department, active) in people {
            let answer = try await scim.call(.POST, "/Users", json: """
                {"userName":"\(email)","name":{"familyName":"\(family)"},"active":\(active),
                 "emails":[{"value":"\(email)","type":"work"},{"value":"home-\(email)","type":"home"}],
                 "\(Self.enterprise)":{"department":"\(department)"}}
                """)
            #expect(answer.status == .created, "\(answer.body)")
        }
        func names(_ filter: String, _ extra: String = "") async throws -> [String] {
            Self.userNames(try await scim.call(.GET, "/Users?filter=" + Self.encoded(filter) + extra + "&sortBy=userName")).sorted()
        }
        #expect(try await names(#"userName eq "CAROL@example.com""#) == ["carol@example.com"])
        #expect(try await names(#"userName co "example.com""#) == ["carol@example.com", "dave@example.com"])
        #expect(try await names(#"userName sw "b" or userName ew ".net""#) == ["bob@example.org", "erin@example.net"])
        #expect(try await names(#"not (userName ew ".com") and active eq true"#) == ["bob@example.org", "erin@example.net"])
        #expect(try await names("name.familyName gt \"C\" and name.familyName lt \"H\"") == ["carol@example.com", "dave@example.com"])
        #expect(try await names(#"emails[type eq "home" and value sw "home-d"]"#) == ["dave@example.com"])
        #expect(try await names(#"emails[type eq "work"].value eq "erin@example.net""#) == ["erin@example.net"])
        #expect(try await names(#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#) == ["bob@example.org", "dave@example.com"])
        #expect(try await names("title pr") == [])
        #expect(try await names("meta.created gt \"2000-01-01T00:00:00Z\"").count == 4)

        let sorted = try await scim.call(.GET, "/Users?sortBy=name.familyName&sortOrder=descending")
        #expect(Self.userNames(sorted) == ["dave@example.com", "carol@example.com", "bob@example.org", "erin@example.net"])
        let page = try await scim.call(.GET, "/Users?sortBy=userName&startIndex=2&count=2")
        #expect(page["totalResults"] as? Int == 4 && page["startIndex"] as? Int == 2 && page["itemsPerPage"] as? Int == 2)
        #expect(Self.userNames(page) == ["carol@example.com", "dave@example.com"])
        #expect(Self.userNames(try await scim.call(.GET, "/Users?count=0")).isEmpty)
        #expect(try await scim.call(.GET, "/Users?startIndex=0&count=-3")["totalResults"] as? Int == 4)

        let only = try await scim.call(.GET, "/Users?filter=" + Self.encoded(#"userName eq "bob@example.org""#) + "&attributes=userName,name.familyName")
        let resource = try #require((only["Resources"] as? [[String: Any]])?.first)
        #expect(Set(resource.keys) == ["schemas", "id", "userName", "name"])
        let bobID = try #require(resource["id"] as? String)
        let single = try await scim.call(.GET, "/Users/\(bobID)?excludedAttributes=emails,meta," + Self.enterprise)
        #expect(single["emails"] == nil && single["meta"] == nil && single[Self.enterprise] == nil && single["userName"] as? String == "bob@example.org")
        let one = try await scim.call(.GET, "/Users/\(bobID)?attributes=" + Self.encoded(Self.enterprise + ":department"))
        #expect(Set(one.json.keys) == ["schemas", "id", Self.enterprise])

        let search = try await scim.call(.POST, "/Users/.search", json: """
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"active eq false","attributes":["userName"],
             "startIndex":1,"count":10}
            """)
        #expect(search.status == .ok, "\(search.body)")
        #expect(Self.userNames(search) == ["dave@example.com"])
        let group = try await scim.call(.POST, "/Groups", json: #"{"displayName":"Sales Team","members":[{"value":"\#(bobID)"}]}"#)
        #expect(group.status == .created)
        let groups = try await scim.call(.POST, "/Groups/.search", json: #"{"filter":"displayName sw \"sales\"","excludedAttributes":["members"]}"#)
        #expect((groups["Resources"] as? [[String: Any]])?.first?["members"] == nil)
        #expect(groups["totalResults"] as? Int == 1)
        let everything = try await scim.call(.POST, "/.search", json: #"{"filter":"displayName pr or userName sw \"e\"","sortBy":"meta.created"}"#)
        #expect(everything.status == .ok, "\(everything.body)")
        let kinds = (everything["Resources"] as? [[String: Any]] ?? []).compactMap { ($0["meta"] as? [String: Any])?["resourceType"] as? String }
        #expect(kinds.sorted() == ["Group", "User"])
    }

    @Test("PATCH: complex attributes, remove of optional attributes, the enterprise extension; ETags make writes compare-and-set")
    func patchAndVersions() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        let created = try await scim.call(.POST, "/Users", json: #"{"userName":"pat@example.com","name":{"givenName":"Pat","familyName":"Doe"},"active":true}"#)
        let id = try #require(created["id"] as? String)
        var answer = try await scim.patch("/Users/\(id)", #"[{"op":"add","path":"name.givenName","value":"Patricia"}]"#)
        #expect((answer["name"] as? [String: String]) == ["givenName": "Patricia", "familyName": "Doe"])
        answer = try await scim.patch("/Users/\(id)", #"[{"op":"replace","path":"name","value":{"middleName":"Q"}}]"#)
        #expect((answer["name"] as? [String: String]) == ["givenName": "Patricia", "familyName": "Doe", "middleName": "Q"])
        answer = try await scim.patch("/Users/\(id)", #"[{"op":"remove","path":"active"}]"#)
        #expect(answer.status == .ok && answer["active"] == nil, "\(answer.body)")
        answer = try await scim.patch("/Users/\(id)", """
            [{"op":"add","path":"\(Self.enterprise):department","value":"Finance"},
             {"op":"add","path":"\(Self.enterprise):employeeNumber","value":"701984"},
             {"op":"add","path":"\(Self.enterprise):manager","value":{"value":"boss-id"}}]
            """)
        let values = try #require(answer[Self.enterprise] as? [String: Any])
        #expect(values["department"] as? String == "Finance" && values["employeeNumber"] as? String == "701984")
        #expect(try await harness.store.user(id: id)?.department == "Finance")
        let version = try #require(answer.headers.first(name: "etag"))
        #expect(version == "W/\"5\"")

        // If-Match: a stale version is refused with 412 and changes nothing; the current one works.
        let stale = try await scim.patch("/Users/\(id)", #"[{"op":"add","path":"title","value":"Late"}]"#, headers: [("If-Match", "W/\"4\"")])
        #expect(Self.isError(stale, .preconditionFailed), "\(stale.body)")
        #expect(Self.isError(try await scim.call(.PUT, "/Users/\(id)", json: #"{"userName":"pat@example.com"}"#, headers: [("If-Match", "W/\"1\"")]), .preconditionFailed))
        #expect(Self.isError(try await scim.call(.DELETE, "/Users/\(id)", headers: [("If-Match", "\"2\"")]), .preconditionFailed))
        let fresh = try await scim.patch("/Users/\(id)", #"[{"op":"add","path":"title","value":"On time"}]"#, headers: [("If-Match", version)])
        #expect(fresh.status == .ok && fresh["title"] as? String == "On time")
        #expect(try await scim.call(.GET, "/Users/\(id)", headers: [("If-None-Match", "W/\"6\"")]).status == .notModified)
        #expect(try await scim.call(.GET, "/Users/\(id)", headers: [("If-None-Match", version)]).status == .ok)
        #expect(try await scim.call(.PUT, "/Users/\(id)", json: #"{"userName":"pat@example.com"}"#, headers: [("If-Match", "*")]).status == .ok)
    }

    @Test("groups: description, members as sent, add/replace/remove, rename, 204 for PATCH, delete")
    func groups() async throws {
        let harness = try await SSOHarness.start(scimToken: Self.token)
        let browser = try harness.browser()
        defer { Task { await browser.shutdown(); await harness.stop() } }
        let scim = Client(harness: harness, browser: browser)
        var users: [String] = []
        for email in ["m1@example.com", "m2@example.com", "m3@example.com"] {
            users.append(try #require(try await scim.call(.POST, "/Users", json: #"{"userName":"\#(email)","displayName":"\#(email.prefix(2))"}"#)["id"] as? String))
        }
        let created = try await scim.call(.POST, "/Groups", json: """
            {"displayName":"Pilots","description":"They fly","externalId":"g-77","members":[{"value":"\(users[0])","type":"User"}]}
            """)
        #expect(created.status == .created, "\(created.body)")
        let id = try #require(created["id"] as? String)
        #expect(created["description"] as? String == "They fly")
        func members(_ answer: AdminClient.Answer) -> [String] {
            (answer["members"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }.sorted()
        }
        #expect(members(created) == [users[0]])
        let member = try #require((created["members"] as? [[String: Any]])?.first)
        #expect(member["display"] == nil && member["type"] as? String == "User" && member["$ref"] as? String == harness.url("/_portcullis/scim/v2/Users/\(users[0])"))
        var answer = try await scim.patch("/Groups/\(id)", #"[{"op":"add","path":"members","value":[{"value":"\#(users[1])"},{"value":"\#(users[0])"}]}]"#)
        #expect(answer.status == .noContent)
        #expect(answer.headers.first(name: "etag") == "W/\"2\"")
        #expect(members(try await scim.call(.GET, "/Groups/\(id)")) == [users[0], users[1]].sorted())
        answer = try await scim.patch("/Groups/\(id)?attributes=members", #"[{"op":"replace","path":"members","value":[{"value":"\#(users[2])"}]}]"#)
        #expect(answer.status == .ok)
        #expect(members(answer) == [users[2]])
        answer = try await scim.patch("/Groups/\(id)?attributes=members", #"[{"op":"remove","path":"members[value eq \"\#(users[2])\"]"}]"#)
        #expect(members(answer).isEmpty)
        answer = try await scim.patch("/Groups/\(id)?attributes=displayName,description", """
            [{"op":"replace","path":"displayName","value":"Captains"},{"op":"remove","path":"description"}]
            """)
        #expect(answer["displayName"] as? String == "Captains" && answer["description"] == nil)
        #expect(Self.isError(try await scim.call(.POST, "/Groups", json: #"{"displayName":"Captains"}"#), .conflict, "uniqueness"))
        #expect(Self.isError(try await scim.patch("/Groups/\(id)", #"[{"op":"add","path":"members","value":[{"value":"ghost"}]}]"#), .badRequest, "invalidValue"))
        let list = try await scim.call(.GET, "/Groups?filter=" + Self.encoded(#"displayName eq "captains""#))
        #expect(Self.ids(list) == [id])
        #expect(try await scim.call(.DELETE, "/Groups/\(id)").status == .noContent)
        #expect(Self.isError(try await scim.call(.GET, "/Groups/\(id)"), .notFound))
    }
}
}
