import PortcullisCore
import Testing

@Suite("SCIM filter evaluation")
struct SCIMFilterEvaluationTests {
    static let enterprise = SCIMSchemaCatalog.enterpriseUserSchemaID

    static let babs: [String: JSONValue] = [
        "schemas": .array([.string(SCIMSchemaCatalog.userSchemaID), .string(enterprise)]),
        "id": .string("2819c223-7f76-453a-919d-413861904646"),
        "externalId": .string("Bjensen"),
        "userName": .string("bjensen@example.com"),
        "name": .object(["givenName": .string("Barbara"), "familyName": .string("Jensen")]),
        "displayName": .string("Babs Jensen"),
        "title": .string("Tour Guide"),
        "userType": .string("Employee"),
        "active": .bool(true),
        "emails": .array([
            .object(["value": .string("bjensen@example.com"), "type": .string("work"), "primary": .bool(true)]),
            .object(["value": .string("babs@jensen.org"), "type": .string("home")]),
        ]),
        "meta": .object(["created": .string("2010-01-23T04:56:22Z"), "lastModified": .string("2011-05-13T04:42:34.000Z"),
                         "resourceType": .string("User"), "version": .string("W/\"3\"")]),
        enterprise: .object(["department": .string("Tour Operations"), "employeeNumber": .string("701984"),
                             "manager": .object(["value": .string("26118915-6090-4610-87e4-49d8ca9f808d")])]),
    ]

    static let cases: [(String, Bool)] = [
        (#"userName eq "bjensen@example.com""#, true),
        (#"userName eq "BJENSEN@EXAMPLE.COM""#, true),
        (#"userName ne "bjensen@example.com""#, false),
        (#"externalId eq "bjensen""#, false),
        (#"externalId eq "Bjensen""#, true),
        (#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
        (#"name.familyName co "ens""#, true),
        (#"name.familyName sw "jen""#, true),
        (#"name.familyName ew "SEN""#, true),
        (#"name.givenName co "x""#, false),
        ("title pr", true),
        ("nickName pr", false),
        ("name pr", true),
        ("nickName eq null", true),
        ("title ne null", true),
        ("active eq true", true),
        ("active eq false", false),
        ("active ne false", true),
        (#"emails co "jensen.org""#, true),
        (#"emails.value ew "@example.com""#, true),
        (#"emails.type eq "other""#, false),
        (#"emails[type eq "work" and value co "@example.com"]"#, true),
        (#"emails[type eq "home" and value co "@example.com"]"#, false),
        (#"emails[primary eq true and type eq "work"]"#, true),
        (#"emails[type eq "work"].value eq "BJENSEN@example.com""#, true),
        (#"emails[type eq "home"].value eq "bjensen@example.com""#, false),
        (#"not (emails[type eq "home"])"#, false),
        (#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
        (#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
        (#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#, true),
        (#"meta.created lt "2011-01-01T00:00:00Z""#, true),
        (#"meta.resourceType eq "User""#, true),
        (#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#, true),
        (#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#, true),
        (#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "BJ""#, true),
        (#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, true),
        (#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, false),
        (#"title pr and userType eq "Intern""#, false),
        (#"title pr or userType eq "Intern""#, true),
        (#"userName gt "a" and userName lt "c""#, true),
        (#"displayName le "Babs Jensen""#, true),
        (#"USERNAME Eq "bjensen@example.com""#, true),
    ]

    @Test("the RFC's forms against a user", arguments: cases)
    func evaluates(_ text: String, _ expected: Bool) throws {
        let filter = try SCIMFilter(parsing: text)
        try filter.validate(for: SCIMSchemaCatalog.userType)
        #expect(filter.matches(Self.babs, type: SCIMSchemaCatalog.userType) == expected, "\(text)")
    }

    /// Case folding is ASCII only: `K` (U+212A KELVIN SIGN) is not `k`, so a look-alike never
    /// answers a lookup for an existing account.
    @Test("a look-alike userName does not match")
    func lookAlike() throws {
        let kelvin: [String: JSONValue] = ["userName": .string("\u{212A}elvin@example.com")]
        let filter = try SCIMFilter(parsing: #"userName eq "kelvin@example.com""#)
        #expect(!filter.matches(kelvin, type: SCIMSchemaCatalog.userType))
        #expect(filter.matches(["userName": .string("KELVIN@example.com")], type: SCIMSchemaCatalog.userType))
    }

    static let refused: [String] = [
        "nope pr", "name.nope pr", #"active gt true"#, #"active co "t""#, #"active eq "true""#, #"userName eq 1"#,
        #"userName gt true"#, #"meta.created gt "yesterday""#, #"urn:example:unknown:1.0:User:x eq "y""#,
        #"name[givenName eq "x"] pr"#, #"emails[nope eq "x"]"#, #"userName[value eq "x"]"#, "name eq \"x\"",
        #"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User eq "x""#, "userName lt null",
    ]

    @Test("filters that name unknown attributes or compare the wrong type are invalidFilter", arguments: refused)
    func validation(_ text: String) {
        do {
            let filter = try SCIMFilter(parsing: text)
            try filter.validate(for: SCIMSchemaCatalog.userType)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.scimType == .invalidFilter, "\(text): \(error)")
        }
    }

    @Test("groups: members by value, displayName")
    func groups() throws {
        let group: [String: JSONValue] = [
            "id": .string("g1"), "displayName": .string("Tour Guides"),
            "members": .array([.object(["value": .string("u1"), "display": .string("a@example.com")]), .object(["value": .string("u2")])]),
        ]
        let type = SCIMSchemaCatalog.groupType
        for (text, expected) in [(#"members[value eq "u2"]"#, true), (#"members.value eq "U2""#, false), (#"displayName eq "tour guides""#, true),
                                 (#"members eq "u1""#, true), ("members pr", true), ("description pr", false)] {
            let filter = try SCIMFilter(parsing: text)
            try filter.validate(for: type)
            #expect(filter.matches(group, type: type) == expected, "\(text)")
        }
    }
}
