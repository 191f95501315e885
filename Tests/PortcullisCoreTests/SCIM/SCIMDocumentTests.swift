import Foundation
import PortcullisCore
import Testing

@Suite("SCIM documents, attribute selection, listing")
struct SCIMDocumentTests {
    static let user = SCIMSchemaCatalog.userType
    static let enterprise = SCIMSchemaCatalog.enterpriseUserSchemaID

    static func object(_ text: String) -> [String: JSONValue] {
        ((try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null).objectValue ?? [:]
    }

    @Test("a body is read with canonical names, coerced types, read-only and unknown attributes ignored, password never kept")
    func reading() throws {
        let document = try SCIMDocument.read(Self.object("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"client-chosen","meta":{"created":"x"},
             "USERNAME":"  ada@example.com ","Active":"False","password":"hunter2","groups":[{"value":"g"}],"unknownThing":1,
             "emails":{"value":"ada@example.com","primary":true},"phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":true}],
             "name":{"GivenName":"Ada","familyName":null,"formatted":""},"displayName":null,
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering","employeeNumber":1234},
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter":"CC-1",
             "addresses":[{"formatted":"1 Main St\\nSpringfield","type":"work"}],"x509Certificates":[{"value":"TUlJQg=="}]}
            """), type: Self.user)
        #expect(document["userName"] == .string("ada@example.com"))
        #expect(document["active"] == .bool(false))
        #expect(document["id"] == nil && document["meta"] == nil && document["groups"] == nil && document["password"] == nil)
        #expect(document["unknownThing"] == nil && document["displayName"] == nil)
        #expect(document["emails"] == .array([.object(["value": .string("ada@example.com"), "primary": .bool(true)])]))
        #expect(document["phoneNumbers"] == .array([.object(["value": .string("1"), "primary": .bool(true)]), .object(["value": .string("2"), "primary": .bool(false)])]))
        #expect(document["name"] == .object(["givenName": .string("Ada")]))
        #expect(document[Self.enterprise] == .object(["department": .string("Engineering"), "employeeNumber": .string("1234"), "costCenter": .string("CC-1")]))
        #expect(document["addresses"]?.arrayValue?.first?.objectValue?["formatted"] == .string("1 Main St\nSpringfield"))
    }

    static let refused: [String] = [
        #"{"name":{"givenName":"No user name"}}"#,
        #"{"userName":""}"#,
        #"{"userName":"a\tb@example.com"}"#,
        #"{"userName":"ok@example.com","active":"yes"}"#,
        #"{"userName":"ok@example.com","name":"text"}"#,
        #"{"userName":"ok@example.com","x509Certificates":[{"value":"not base64!"}]}"#,
        #"{"userName":"ok@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"text"}"#,
        #"{"userName":"ok@example.com","title":["a","b"]}"#,
        #"{"userName":["a@example.com","b@example.com"]}"#,
        #"{"userName":"ok@example.com","emails":[{"value":["x"]}]}"#,
        #"{"userName":"ok@example.com","displayName":"bell\u0007"}"#,
    ]

    @Test("malformed bodies are invalidValue", arguments: refused)
    func refusals(_ body: String) {
        do {
            _ = try SCIMDocument.read(Self.object(body), type: Self.user)
            Issue.record("\(body) was accepted")
        } catch {
            #expect(error.scimType == .invalidValue, "\(body): \(error)")
        }
    }

    static let resource: [String: JSONValue] = [
        "schemas": .array([.string(SCIMSchemaCatalog.userSchemaID)]), "id": .string("u1"), "userName": .string("a@example.com"),
        "name": .object(["givenName": .string("A"), "familyName": .string("B")]), "title": .string("T"),
        "emails": .array([.object(["value": .string("a@example.com"), "type": .string("work")])]),
        "meta": .object(["resourceType": .string("User")]),
        enterprise: .object(["department": .string("D"), "division": .string("V")]),
    ]

    @Test("attributes keeps what is asked for plus id and schemas; excludedAttributes removes, never id")
    func selection() throws {
        var selected = try SCIMAttributeSelection(attributes: "userName,name.familyName, emails.type", excludedAttributes: nil)
            .apply(to: Self.resource, type: Self.user)
        #expect(Set(selected.keys) == ["schemas", "id", "userName", "name", "emails"])
        #expect(selected["name"] == .object(["familyName": .string("B")]))
        #expect(selected["emails"] == .array([.object(["type": .string("work")])]))
        selected = try SCIMAttributeSelection(attributes: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", excludedAttributes: nil)
            .apply(to: Self.resource, type: Self.user)
        #expect(selected[Self.enterprise] == .object(["department": .string("D")]))
        selected = try SCIMAttributeSelection(attributes: Self.enterprise, excludedAttributes: nil).apply(to: Self.resource, type: Self.user)
        #expect(selected[Self.enterprise] == Self.resource[Self.enterprise])
        selected = try SCIMAttributeSelection(attributes: nil, excludedAttributes: "id,name.givenName,title,emails,meta,nonsense")
            .apply(to: Self.resource, type: Self.user)
        #expect(selected["id"] == .string("u1"))
        #expect(selected["name"] == .object(["familyName": .string("B")]))
        #expect(selected["title"] == nil && selected["emails"] == nil && selected["meta"] == nil)
        #expect(selected["userName"] == .string("a@example.com"))
        selected = try SCIMAttributeSelection(attributes: nil, excludedAttributes: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division")
            .apply(to: Self.resource, type: Self.user)
        #expect(selected[Self.enterprise] == .object(["department": .string("D")]))
        #expect(throws: SCIMFailure.self) { try SCIMAttributeSelection(attributes: "a", excludedAttributes: "b") }
        #expect(throws: SCIMFailure.self) { try SCIMAttributeSelection(attributes: "bad name!", excludedAttributes: nil) }
    }

    @Test("list queries: bounds on startIndex and count, sorting by type, paging after filtering")
    func listing() throws {
        let query = try SCIMListQuery(parameters: ["startIndex": "-5", "count": "100000", "sortBy": "name.familyName", "sortOrder": "Descending"])
        #expect(query.startIndex == 1)
        #expect(query.count == SCIMListQuery.maximumResults)
        #expect(query.descending)
        #expect(try SCIMListQuery(parameters: ["count": "-1"]).count == 0)
        for bad in [["startIndex": "one"], ["count": "1.5"], ["sortOrder": "sideways"], ["filter": "userName eq"], ["sortBy": "a b"]] {
            #expect(throws: SCIMFailure.self, "\(bad)") { try SCIMListQuery(parameters: bad) }
        }
        let people: [[String: JSONValue]] = ["Zed", "adams", "Baker", nil].enumerated().map { index, family in
            var person: [String: JSONValue] = ["id": .string("u\(index)"), "userName": .string("u\(index)@example.com")]
            if let family { person["name"] = .object(["familyName": .string(family)]) }
            return person
        }
        var ascending = SCIMListQuery(sortBy: try SCIMAttributePath(parsing: "name.familyName"))
        #expect(ascending.page(people, type: Self.user).resources.map { $0["id"] } == ["u1", "u2", "u0", "u3"].map(JSONValue.string))
        ascending.descending = true
        #expect(ascending.page(people, type: Self.user).resources.map { $0["id"] } == ["u3", "u0", "u2", "u1"].map(JSONValue.string))
        let filtered = SCIMListQuery(filter: try SCIMFilter(parsing: "name.familyName pr"), startIndex: 2, count: 1)
        let page = filtered.page(people, type: Self.user)
        #expect(page.total == 3)
        #expect(page.resources.count == 1)
        let beyond = SCIMListQuery(startIndex: 10, count: 5).page(people, type: Self.user)
        #expect(beyond.total == 4 && beyond.resources.isEmpty)
        let search = try SCIMListQuery(searchRequest: .object([
            "schemas": .array([.string(SCIMSchemaCatalog.searchRequestSchema)]), "attributes": .array([.string("userName")]),
            "filter": .string("userName sw \"u\""), "startIndex": .number(1), "count": .number(10), "sortBy": .string("userName"),
        ]))
        #expect(search.count == 10 && search.filter != nil && search.selection.attributes.count == 1)
        #expect(throws: SCIMFailure.self) { try SCIMListQuery(searchRequest: .object(["schemas": .array([.string("urn:wrong")])])) }
        #expect(throws: SCIMFailure.self) { try SCIMListQuery(searchRequest: .object(["count": .string("many")])) }
    }

    @Test("dateTime parsing and formatting")
    func dateTime() throws {
        let date = try #require(SCIMDateTime.parse("2024-02-29T23:59:59.5+01:00"))
        #expect(date.timeIntervalSince1970 == 1_709_247_599.5)
        #expect(SCIMDateTime.format(date) == "2024-02-29T22:59:59.500Z")
        #expect(SCIMDateTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        for bad in ["2024-02-29", "2024-13-01T00:00:00Z", "2024-02-29T24:00:00Z", "2024-02-29T23:59:59", "2024-02-29T23:59:59.Z",
                    "2024-02-29T23:59:59+0100", "x024-02-29T23:59:59Z", "2024-02-29T23:59:59Zjunk"] {
            #expect(SCIMDateTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("discovery documents describe every attribute the server keeps")
    func discovery() {
        let schema = SCIMSchemaCatalog.user.json(base: "https://gw/scim")
        let names = schema.objectValue?["attributes"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? []
        #expect(names.contains("userName") && names.contains("emails") && names.contains("password"))
        let type = SCIMSchemaCatalog.userType.json(base: "https://gw/scim")
        #expect(type.objectValue?["schemaExtensions"]?.arrayValue?.count == 1)
        #expect(SCIMSchemaCatalog.group.attribute(named: "DESCRIPTION") != nil)
    }
}
