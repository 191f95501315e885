import Foundation
import PortcullisCore
import Testing

@Suite("SCIM PATCH (RFC 7644 §3.5.2)")
struct SCIMPatchTests {
    static let user = SCIMSchemaCatalog.userType
    static let group = SCIMSchemaCatalog.groupType
    static let enterprise = SCIMSchemaCatalog.enterpriseUserSchemaID

    static func json(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }

    static func patch(_ operations: String, _ document: [String: JSONValue], type: SCIMResourceType = user) throws(SCIMFailure) -> [String: JSONValue] {
        let body = json(#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":"# + operations + "}")
        return try SCIMPatch.apply(try SCIMPatchOperation.operations(from: body), to: document, type: type)
    }

    static let base: [String: JSONValue] = [
        "userName": .string("bjensen@example.com"),
        "name": .object(["givenName": .string("Barbara"), "familyName": .string("Jensen")]),
        "active": .bool(true),
        "emails": .array([.object(["value": .string("bjensen@example.com"), "type": .string("work"), "primary": .bool(true)])]),
    ]

    @Test("add and replace on name and name.givenName merge, never drop siblings")
    func complexAttributes() throws {
        var result = try Self.patch(#"[{"op":"add","path":"name.givenName","value":"Babs"}]"#, Self.base)
        #expect(result["name"] == .object(["givenName": .string("Babs"), "familyName": .string("Jensen")]))
        result = try Self.patch(#"[{"op":"replace","path":"name","value":{"middleName":"J"}}]"#, Self.base)
        #expect(result["name"] == .object(["givenName": .string("Barbara"), "familyName": .string("Jensen"), "middleName": .string("J")]))
        result = try Self.patch(#"[{"op":"add","path":"name","value":{"givenName":"B","honorificPrefix":"Ms."}}]"#, Self.base)
        #expect(result["name"] == .object(["givenName": .string("B"), "familyName": .string("Jensen"), "honorificPrefix": .string("Ms.")]))
        result = try Self.patch(#"[{"op":"replace","value":{"name":{"familyName":"J."}}}]"#, Self.base)
        #expect(result["name"] == .object(["givenName": .string("Barbara"), "familyName": .string("J.")]))
        result = try Self.patch(#"[{"op":"remove","path":"name.givenName"}]"#, Self.base)
        #expect(result["name"] == .object(["familyName": .string("Jensen")]))
        result = try Self.patch(#"[{"op":"remove","path":"name"}]"#, Self.base)
        #expect(result["name"] == nil)
        // Names are case-insensitive and come back canonical.
        result = try Self.patch(#"[{"op":"REPLACE","path":"NAME.GIVENNAME","value":"Bee"}]"#, Self.base)
        #expect(result["name"]?.objectValue?["givenName"] == .string("Bee"))
    }

    @Test("optional attributes can be removed, required ones cannot")
    func removal() throws {
        let result = try Self.patch(#"[{"op":"remove","path":"active"}]"#, Self.base)
        #expect(result["active"] == nil)
        #expect(throws: SCIMFailure.mutability("userName is required and cannot be removed")) {
            try Self.patch(#"[{"op":"remove","path":"userName"}]"#, Self.base)
        }
        #expect(throws: SCIMFailure.self) { try Self.patch(#"[{"op":"remove"}]"#, Self.base) }
    }

    /// Microsoft Entra ID's request shapes, from its SCIM documentation: capitalised ops, string
    /// booleans, paths with value filters, the enterprise extension by URN, `manager` as a bare id.
    @Test("Entra ID's PATCH shapes")
    func entra() throws {
        let result = try Self.patch("""
            [{"op":"Replace","path":"active","value":"False"},
             {"op":"Add","path":"displayName","value":"Babs J."},
             {"op":"Replace","path":"emails[type eq \\"work\\"].value","value":"babs@contoso.com"},
             {"op":"Add","path":"phoneNumbers[type eq \\"mobile\\"].value","value":"+1 555 0100"},
             {"op":"Replace","path":"addresses[type eq \\"work\\"].locality","value":"Redmond"},
             {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
             {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915-6090"},
             {"op":"Replace","path":"name.givenName","value":"Barbara"},
             {"op":"Add","path":"title","value":"Director"}]
            """, Self.base)
        #expect(result["active"] == .bool(false))
        #expect(result["displayName"] == .string("Babs J."))
        #expect(result["emails"] == .array([.object(["value": .string("babs@contoso.com"), "type": .string("work"), "primary": .bool(true)])]))
        #expect(result["phoneNumbers"] == .array([.object(["value": .string("+1 555 0100"), "type": .string("mobile")])]))
        #expect(result["addresses"] == .array([.object(["locality": .string("Redmond"), "type": .string("work")])]))
        #expect(result[Self.enterprise] == .object(["department": .string("Sales"), "manager": .object(["value": .string("26118915-6090")])]))
        #expect(result["title"] == .string("Director"))
        let off = try Self.patch(#"[{"op":"Replace","path":"active","value":"True"}]"#, result)
        #expect(off["active"] == .bool(true))
        let removed = try Self.patch(#"[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]"#, result)
        #expect(removed[Self.enterprise] == .object(["department": .string("Sales")]))
        // Without a path, keys may be paths and URN-qualified.
        let flat = try Self.patch("""
            [{"op":"Replace","value":{"name.familyName":"Jensen-Smith","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42",
              "active":"false"}}]
            """, Self.base)
        #expect(flat["name"]?.objectValue?["familyName"] == .string("Jensen-Smith"))
        #expect(flat[Self.enterprise]?.objectValue?["employeeNumber"] == .string("42"))
        #expect(flat["active"] == .bool(false))
    }

    /// Okta's shapes: `replace` of `active` without a path, group membership by filter.
    @Test("Okta's PATCH shapes")
    func okta() throws {
        let result = try Self.patch(#"[{"op":"replace","value":{"id":"ignored","active":false}}]"#, Self.base)
        #expect(result["active"] == .bool(false))
        let members: [String: JSONValue] = ["displayName": .string("Admins"), "members": .array([.object(["value": .string("u1")]), .object(["value": .string("u2")])])]
        let removed = try Self.patch(#"[{"op":"remove","path":"members[value eq \"u2\"]"}]"#, members, type: Self.group)
        #expect(removed["members"] == .array([.object(["value": .string("u1")])]))
        let added = try Self.patch(#"[{"op":"add","path":"members","value":[{"value":"u3","display":"c@example.com"}]}]"#, members, type: Self.group)
        #expect(added["members"] == .array([.object(["value": .string("u1")]), .object(["value": .string("u2")]), .object(["value": .string("u3")])]))
    }

    @Test("group members: add keeps what was there and never repeats, replace sets exactly, remove by value list or filter")
    func groupMembers() throws {
        let members: [String: JSONValue] = ["displayName": .string("G"), "members": .array([.object(["value": .string("u1")])])]
        var result = try Self.patch(#"[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]"#, members, type: Self.group)
        #expect(result["members"] == .array([.object(["value": .string("u1")]), .object(["value": .string("u2")])]))
        result = try Self.patch(#"[{"op":"replace","path":"members","value":[{"value":"u9","type":"User"}]}]"#, result, type: Self.group)
        #expect(result["members"] == .array([.object(["value": .string("u9"), "type": .string("User")])]))
        result = try Self.patch(#"[{"op":"Remove","path":"members","value":[{"value":"u9"}]}]"#, result, type: Self.group)
        #expect(result["members"] == nil)
        result = try Self.patch(#"[{"op":"add","value":{"members":[{"value":"u4"}],"displayName":"G2"}}]"#, members, type: Self.group)
        #expect(result["members"] == .array([.object(["value": .string("u1")]), .object(["value": .string("u4")])]))
        #expect(result["displayName"] == .string("G2"))
        result = try Self.patch(#"[{"op":"remove","path":"members"}]"#, members, type: Self.group)
        #expect(result["members"] == nil)
        // Removing a member that is not there is not an error (Entra retries removals).
        result = try Self.patch(#"[{"op":"remove","path":"members[value eq \"nobody\"]"}]"#, members, type: Self.group)
        #expect(result["members"] == members["members"])
    }

    @Test("multi-valued attributes: add appends, replace with a filter replaces matches, noTarget when nothing matches")
    func multiValued() throws {
        var result = try Self.patch(#"[{"op":"add","path":"emails","value":[{"value":"b@home.org","type":"home"}]}]"#, Self.base)
        #expect(result["emails"]?.arrayValue?.count == 2)
        result = try Self.patch(#"[{"op":"add","path":"emails","value":{"value":"b@home.org","type":"home","primary":true}}]"#, result)
        #expect(result["emails"]?.arrayValue?.count == 2, "the same value is updated, not repeated")
        let primaries = result["emails"]?.arrayValue?.filter { $0.objectValue?["primary"] == .bool(true) }
        #expect(primaries?.count == 1, "primary stays unique")
        result = try Self.patch(#"[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"x@home.org","type":"home"}}]"#, result)
        #expect(result["emails"]?.arrayValue?.contains(.object(["value": .string("x@home.org"), "type": .string("home")])) == true)
        #expect(throws: SCIMFailure.self) {
            try Self.patch(#"[{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"o@x.org"}}]"#, Self.base)
        }
        do {
            _ = try Self.patch(#"[{"op":"replace","path":"emails[value co \"nothing\"].type","value":"home"}]"#, Self.base)
            Issue.record("a filter matching nothing was accepted")
        } catch {
            #expect(error.scimType == .noTarget)
        }
        result = try Self.patch(#"[{"op":"remove","path":"emails[type eq \"work\"].primary"}]"#, Self.base)
        #expect(result["emails"] == .array([.object(["value": .string("bjensen@example.com"), "type": .string("work")])]))
        result = try Self.patch(#"[{"op":"remove","path":"emails[type eq \"work\"]"}]"#, Self.base)
        #expect(result["emails"] == nil)
        result = try Self.patch(#"[{"op":"replace","path":"emails","value":[]}]"#, Self.base)
        #expect(result["emails"] == nil)
    }

    static let refusals: [(String, SCIMFailure.ScimType)] = [
        (#"[{"op":"replace","path":"id","value":"x"}]"#, .mutability),
        (#"[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]"#, .mutability),
        (#"[{"op":"add","path":"groups","value":[{"value":"g"}]}]"#, .mutability),
        (#"[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]"#, .mutability),
        (#"[{"op":"replace","path":"nope","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"name.nope","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"emails[type eq","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"emails[nope eq \"x\"].value","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"emails[type eq \"work\"].nope","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"emails[type eq \"work\"]x","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"userName[value eq \"x\"]","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"emails.value","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"urn:example:custom:User:x","value":"x"}]"#, .invalidPath),
        (#"[{"op":"replace","path":"","value":"x"}]"#, .invalidValue),
        (#"[{"op":"replace","path":"active","value":"maybe"}]"#, .invalidValue),
        (#"[{"op":"replace","path":"active"}]"#, .invalidValue),
        (#"[{"op":"replace","path":"userName","value":"a\u0000b"}]"#, .invalidValue),
        (#"[{"op":"replace","path":"userName","value":{"x":1}}]"#, .invalidValue),
        (#"[{"op":"replace","path":"name","value":"just text"}]"#, .invalidValue),
        (#"[{"op":"replace","path":"meta","value":{}}]"#, .mutability),
        (#"[{"op":"explode","path":"active"}]"#, .invalidSyntax),
        (#"[{"path":"active"}]"#, .invalidSyntax),
        (#"[]"#, .invalidSyntax),
        (#""not a list""#, .invalidSyntax),
        (#"[1]"#, .invalidSyntax),
        (#"[{"op":"replace","path":5,"value":"x"}]"#, .invalidPath),
        (#"[{"op":"add","value":"not an object"}]"#, .invalidValue),
    ]

    @Test("malformed operations are refused with the right scimType", arguments: refusals)
    func refused(_ operations: String, _ expected: SCIMFailure.ScimType) {
        do {
            _ = try Self.patch(operations, Self.base)
            Issue.record("\(operations) was accepted")
        } catch {
            #expect(error.scimType == expected, "\(operations): \(error)")
            #expect(error.status == 400)
        }
    }

    @Test("the PatchOp schema is required; too many operations are refused")
    func envelope() throws {
        #expect(throws: SCIMFailure.self) {
            try SCIMPatchOperation.operations(from: Self.json(#"{"Operations":[{"op":"remove","path":"title"}]}"#))
        }
        let many = "[" + Array(repeating: #"{"op":"add","path":"title","value":"x"}"#, count: SCIMPatchOperation.maximumOperations + 1).joined(separator: ",") + "]"
        do {
            _ = try Self.patch(many, Self.base)
            Issue.record("too many operations were accepted")
        } catch {
            #expect(error.scimType == .tooMany)
        }
        // The keys of the envelope are case-insensitive too.
        let lower = Self.json(#"{"SCHEMAS":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"OP":"remove","PATH":"title"}]}"#)
        #expect(try SCIMPatchOperation.operations(from: lower).count == 1)
    }

    @Test("hostile values: huge strings and huge lists are refused, not stored")
    func hostileValues() {
        let huge = String(repeating: "x", count: SCIMDocument.maximumStringBytes + 1)
        #expect(throws: SCIMFailure.self) { try Self.patch(#"[{"op":"add","path":"title","value":"\#(huge)"}]"#, Self.base) }
        let list = "[" + (0...SCIMDocument.maximumValues).map { #"{"value":"v\#($0)"}"# }.joined(separator: ",") + "]"
        #expect(throws: SCIMFailure.self) { try Self.patch(#"[{"op":"add","path":"phoneNumbers","value":\#(list)}]"#, Self.base) }
        let deepPath = String(repeating: "emails[", count: 200) + "x"
        #expect(throws: SCIMFailure.self) { try Self.patch(#"[{"op":"add","path":"\#(deepPath)","value":"x"}]"#, Self.base) }
    }
}
