import PortcullisCore
import Testing

@Suite("SCIM filter parser (RFC 7644 §3.4.2.2)")
struct SCIMFilterParserTests {
    static func path(_ text: String) -> SCIMAttributePath {
        (try? SCIMAttributePath(parsing: text)) ?? SCIMAttributePath(attribute: "invalid")
    }

    static let valid: [(String, SCIMFilter)] = [
        (#"userName eq "bjensen""#, .compare(path("userName"), .eq, .string("bjensen"))),
        (#"USERNAME EQ "bjensen""#, .compare(path("USERNAME"), .eq, .string("bjensen"))),
        (#"name.familyName co "O'Malley""#, .compare(path("name.familyName"), .co, .string("O'Malley"))),
        (#"userName sw "J""#, .compare(path("userName"), .sw, .string("J"))),
        (#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
         .compare(path("urn:ietf:params:scim:schemas:core:2.0:User:userName"), .sw, .string("J"))),
        ("title pr", .present(path("title"))),
        (#"meta.lastModified gt "2011-05-13T04:42:34Z""#, .compare(path("meta.lastModified"), .gt, .string("2011-05-13T04:42:34Z"))),
        (#"meta.lastModified ge "2011-05-13T04:42:34Z""#, .compare(path("meta.lastModified"), .ge, .string("2011-05-13T04:42:34Z"))),
        (#"meta.lastModified lt "2011-05-13T04:42:34Z""#, .compare(path("meta.lastModified"), .lt, .string("2011-05-13T04:42:34Z"))),
        (#"meta.lastModified le "2011-05-13T04:42:34Z""#, .compare(path("meta.lastModified"), .le, .string("2011-05-13T04:42:34Z"))),
        (#"title pr and userType eq "Employee""#,
         .and(.present(path("title")), .compare(path("userType"), .eq, .string("Employee")))),
        (#"title pr or userType eq "Intern""#,
         .or(.present(path("title")), .compare(path("userType"), .eq, .string("Intern")))),
        (#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
         .compare(path("schemas"), .eq, .string("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))),
        (#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
         .and(.compare(path("userType"), .eq, .string("Employee")),
              .or(.compare(path("emails"), .co, .string("example.com")), .compare(path("emails.value"), .co, .string("example.org"))))),
        (#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
         .and(.compare(path("userType"), .ne, .string("Employee")),
              .not(.or(.compare(path("emails"), .co, .string("example.com")), .compare(path("emails.value"), .co, .string("example.org")))))),
        (#"userType eq "Employee" and (emails.type eq "work")"#,
         .and(.compare(path("userType"), .eq, .string("Employee")), .compare(path("emails.type"), .eq, .string("work")))),
        (#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
         .and(.compare(path("userType"), .eq, .string("Employee")),
              .valuePath(path("emails"), .and(.compare(path("type"), .eq, .string("work")), .compare(path("value"), .co, .string("@example.com")))))),
        (#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
         .or(.valuePath(path("emails"), .and(.compare(path("type"), .eq, .string("work")), .compare(path("value"), .co, .string("@example.com")))),
             .valuePath(path("ims"), .and(.compare(path("type"), .eq, .string("xmpp")), .compare(path("value"), .co, .string("@foo.com")))))),
        // Precedence: not > and > or.
        ("a pr or b pr and c pr", .or(.present(path("a")), .and(.present(path("b")), .present(path("c"))))),
        ("a pr and b pr or c pr", .or(.and(.present(path("a")), .present(path("b"))), .present(path("c")))),
        ("not(a pr) and b pr", .and(.not(.present(path("a"))), .present(path("b")))),
        ("NOT (a pr)", .not(.present(path("a")))),
        // Literals.
        ("active eq true", .compare(path("active"), .eq, .bool(true))),
        ("active eq False", .compare(path("active"), .eq, .bool(false))),
        ("manager eq null", .compare(path("manager"), .eq, .null)),
        ("count gt 10", .compare(path("count"), .gt, .number(10))),
        ("count le -1.5e3", .compare(path("count"), .le, .number(-1500))),
        (#"userName eq "quote \" backslash \\ slash \/ tab \t""#, .compare(path("userName"), .eq, .string("quote \" backslash \\ slash / tab \t"))),
        (#"userName eq "\u00e9\ud83d\ude00""#, .compare(path("userName"), .eq, .string("é😀"))),
        (#"userName eq """#, .compare(path("userName"), .eq, .string(""))),
        ("  userName   eq\t\"x\"  ", .compare(path("userName"), .eq, .string("x"))),
        (#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
         .valuePath(path("members"), .compare(path("value"), .eq, .string("2819c223-7f76-453a-919d-413861904646")))),
        // Entra ID's lookup: a sub-attribute after the brackets compares within the same value.
        (#"emails[type eq "work"].value eq "bjensen@example.com""#,
         .valuePath(path("emails"), .and(.compare(path("type"), .eq, .string("work")), .compare(path("value"), .eq, .string("bjensen@example.com"))))),
        (#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales""#,
         .compare(path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"), .eq, .string("Sales"))),
    ]

    @Test("parses the RFC's examples and more", arguments: valid)
    func parses(_ text: String, _ expected: SCIMFilter) throws {
        #expect(try SCIMFilter(parsing: text) == expected)
    }

    static let invalid: [String] = [
        "", " ", "userName", "userName eq", "userName xx \"a\"", "userName eq bjensen", #"eq "a""#, #"userName eq "a" and"#,
        #"userName eq "a" or or b pr"#, #"(userName eq "a""#, #"userName eq "a")"#, "not a pr", "not (a pr", #"emails[type eq "work""#,
        #"emails[type eq "work"]]"#, #"emails[type eq "work"].value"#, #"emails[type eq "work"].1x eq "y""#, #"emails[type[x eq "y"] eq "z"]"#,
        #"name.givenName[x eq "y"]"#, #"userName eq "unterminated"#, "userName eq \"bad \\q escape\"", "userName eq \"\\u12\"",
        "userName eq \"\\ud800\"", "userName eq \"\\udc00\"", "userName eq \"\u{01}\"", "a.b.c pr", "1abc pr", "user%name pr",
        "userName eq 01", "userName eq 1.", "userName eq .5", "userName eq 1e", "userName eq +1", "userName eq tru",
        "userName eq \"a\" \"b\"", "a pr b pr", "[a pr]", "()", "userName eq \"a\";DROP TABLE users", "userName eq \u{00e9}",
        "userName eq \"x\" and ()",
    ]

    @Test("refuses malformed filters with invalidFilter", arguments: invalid)
    func refuses(_ text: String) {
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: text) }
        do {
            _ = try SCIMFilter(parsing: text)
        } catch {
            #expect(error.scimType == .invalidFilter, "\(text): \(error)")
            #expect(error.status == 400)
            #expect(error.detail.count < 300)
        }
    }

    @Test("hostile filters are refused cheaply: deep nesting, many terms, huge input")
    func hostile() throws {
        let deep = String(repeating: "(", count: 100_000) + "a pr" + String(repeating: ")", count: 100_000)
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: deep) }
        let nots = String(repeating: "not (", count: 500) + "a pr" + String(repeating: ")", count: 500)
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: nots) }
        let justDeepEnough = String(repeating: "(", count: SCIMFilter.maximumDepth - 1) + "a pr" + String(repeating: ")", count: SCIMFilter.maximumDepth - 1)
        #expect(try SCIMFilter(parsing: justDeepEnough) == .present(SCIMFilterParserTests.path("a")))
        let many = (0..<(SCIMFilter.maximumTerms + 1)).map { "a\($0) pr" }.joined(separator: " and ")
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: many) }
        let enough = (0..<SCIMFilter.maximumTerms).map { "a\($0) pr" }.joined(separator: " or ")
        _ = try SCIMFilter(parsing: enough)
        let long = "userName eq \"" + String(repeating: "x", count: 10_000) + "\""
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: long) }
        let tokens = String(repeating: "( ", count: 3_000)
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: tokens) }
        let longName = String(repeating: "a", count: 1_000) + " pr"
        #expect(throws: SCIMFailure.self) { try SCIMFilter(parsing: longName) }
    }

    // MARK: fuzzing

    /// A small deterministic generator (SplitMix64), so failures reproduce from the seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let names = ["userName", "name.givenName", "emails.value", "active", "meta.lastModified", "title", "x-y_z", "$ref",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"]
    static let innerNames = ["value", "type", "primary", "display"]

    static func randomValue(_ random: inout SeededGenerator) -> SCIMFilterValue {
        switch Int.random(in: 0..<5, using: &random) {
        case 0: .bool(Bool.random(using: &random))
        case 1: .null
        case 2: .number(Double(Int.random(in: -1_000...1_000, using: &random)) / 4)
        default:
            .string(String((0..<Int.random(in: 0..<8, using: &random)).map { _ in
                ["a", "Z", " ", "\"", "\\", "é", "\n", "😀", "]", ")", "/"].randomElement(using: &random) ?? "a"
            }))
        }
    }

    static func randomFilter(_ random: inout SeededGenerator, depth: Int, inside: Bool) -> SCIMFilter {
        let pool = inside ? innerNames : names
        let leaf = depth <= 0 || Int.random(in: 0..<3, using: &random) == 0
        if leaf {
            let path = SCIMFilterParserTests.path(pool.randomElement(using: &random) ?? "a")
            if !inside, Int.random(in: 0..<5, using: &random) == 0 {
                return .valuePath(SCIMFilterParserTests.path("emails"), randomFilter(&random, depth: 1, inside: true))
            }
            if Bool.random(using: &random) { return .present(path) }
            return .compare(path, SCIMComparison.allCases.randomElement(using: &random) ?? .eq, randomValue(&random))
        }
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return .not(randomFilter(&random, depth: depth - 1, inside: inside))
        case 1: return .and(randomFilter(&random, depth: depth - 1, inside: inside), randomFilter(&random, depth: depth - 1, inside: inside))
        default: return .or(randomFilter(&random, depth: depth - 1, inside: inside), randomFilter(&random, depth: depth - 1, inside: inside))
        }
    }

    /// Writes a filter back as text, fully parenthesised, with JSON escapes.
    static func render(_ filter: SCIMFilter) -> String {
        switch filter {
        case .present(let path): return "\(path.text) pr"
        case .compare(let path, let comparison, let value): return "\(path.text) \(comparison.rawValue) \(render(value))"
        case .valuePath(let path, let inner): return "\(path.text)[\(render(inner))]"
        case .not(let inner): return "not (\(render(inner)))"
        case .and(let a, let b): return "(\(render(a))) and (\(render(b)))"
        case .or(let a, let b): return "(\(render(a))) or (\(render(b)))"
        }
    }

    static func render(_ value: SCIMFilterValue) -> String {
        switch value {
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .number(let number): return number.rounded() == number ? String(Int(number)) : String(number)
        case .string(let text):
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "/": out += "\\/"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
    }

    /// Counts terms and depth to know whether the parser must accept a rendered filter.
    static func measure(_ filter: SCIMFilter) -> (terms: Int, depth: Int) {
        switch filter {
        case .present, .compare: return (1, 0)
        case .valuePath(_, let inner):
            let (terms, depth) = measure(inner)
            return (terms + 1, depth + 1)
        case .not(let inner):
            let (terms, depth) = measure(inner)
            return (terms, depth + 1)
        case .and(let a, let b), .or(let a, let b):
            let (x, dx) = measure(a), (y, dy) = measure(b)
            return (x + y, max(dx, dy) + 1)
        }
    }

    @Test("fuzz: random valid filters round-trip through text", arguments: [UInt64(1), 2, 3, 0xC0FFEE])
    func roundTrip(seed: UInt64) throws {
        var random = SeededGenerator(state: seed)
        for _ in 0..<400 {
            let filter = Self.randomFilter(&random, depth: Int.random(in: 0..<5, using: &random), inside: false)
            let text = Self.render(filter)
            let (terms, depth) = Self.measure(filter)
            if terms <= SCIMFilter.maximumTerms, depth < SCIMFilter.maximumDepth - 1 {
                #expect(try SCIMFilter(parsing: text) == filter, "\(text)")
            }
        }
    }

    @Test("fuzz: mutated and random inputs never crash and fail only with invalidFilter", arguments: [UInt64(7), 8, 9, 0xBADC0DE])
    func mutations(seed: UInt64) {
        var random = SeededGenerator(state: seed)
        let alphabet = Array("abcdefgz.:$-_ \t()[]\"\\/eqnotandorprswcogtlt0123456789+-eE\u{0}\u{7F}é😀".unicodeScalars)
        for round in 0..<3_000 {
            var text: String
            if round % 3 == 0 {
                text = String(String.UnicodeScalarView((0..<Int.random(in: 0..<60, using: &random)).map { _ in
                    alphabet.randomElement(using: &random) ?? "a"
                }))
            } else {
                var scalars = Array(Self.render(Self.randomFilter(&random, depth: 3, inside: false)).unicodeScalars)
                for _ in 0..<Int.random(in: 1...4, using: &random) where !scalars.isEmpty {
                    let index = Int.random(in: 0..<scalars.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: scalars.remove(at: index)
                    case 1: scalars.insert(alphabet.randomElement(using: &random) ?? "x", at: index)
                    default: scalars[index] = alphabet.randomElement(using: &random) ?? "x"
                    }
                }
                text = String(String.UnicodeScalarView(scalars))
            }
            do {
                let filter = try SCIMFilter(parsing: text)
                // Whatever parses also evaluates without trouble.
                _ = filter.matches(["userName": .string("x")], type: SCIMSchemaCatalog.userType)
            } catch {
                #expect(error.scimType == .invalidFilter, "\(text): \(error)")
            }
        }
    }
}
