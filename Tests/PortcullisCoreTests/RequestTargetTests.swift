import PortcullisCore
import Testing

@Suite("Path normalisation before route matching")
struct RequestTargetTests {
    @Test("normalised forms", arguments: [
        ("/", "/"),
        ("/admin/teammates", "/admin/teammates"),
        ("/admin/teammates/", "/admin/teammates/"),
        ("//admin//teammates", "/admin/teammates"),
        ("/public/../admin/teammates", "/admin/teammates"),
        ("/public/%2e%2e/admin", "/admin"),
        ("/public/%2E%2E/admin", "/admin"),
        ("/public/.%2e/admin", "/admin"),
        ("/public%2F..%2Fadmin", "/admin"),
        ("/public%2f..%2fadmin", "/admin"),
        ("/public\\..\\admin", "/admin"),
        ("/public%5C..%5Cadmin", "/admin"),
        ("/admin;jsessionid=1/teammates", "/admin/teammates"),
        ("/public/..;/admin", "/admin"),
        ("/./admin/./teammates", "/admin/teammates"),
        ("/../../../admin", "/admin"),
        ("/admin/teammates?x=1", "/admin/teammates"),
        ("/admin/teammates#frag", "/admin/teammates"),
        ("/admin/teammates?q=../../x#f", "/admin/teammates"),
        ("/a/b/..", "/a/"),
        ("/a/%20b", "/a/ b"),
        ("/caf%C3%A9", "/café"),
    ])
    func normalises(_ raw: String, _ expected: String) throws {
        let target = try RequestTarget(parsing: raw)
        #expect(target.path.description == expected)
    }

    @Test("the query is kept verbatim and the fragment dropped")
    func query() throws {
        let target = try RequestTarget(parsing: "/search?q=a%2Fb&x=..#frag")
        #expect(target.query == "q=a%2Fb&x=..")
        #expect(target.encoded == "/search?q=a%2Fb&x=..")
    }

    @Test("the upstream receives the normalised path, re-encoded")
    func encoded() throws {
        #expect(try RequestTarget(parsing: "/public/%2e%2e/admin").encoded == "/admin")
        #expect(try RequestTarget(parsing: "/a/%20b?x").encoded == "/a/%20b?x")
        #expect(try RequestTarget(parsing: "/caf%C3%A9").encoded == "/caf%C3%A9")
        // A decoded ';' starts parameters like a literal one: both are dropped, consistently.
        #expect(try RequestTarget(parsing: "/a%3Bb").path.segments == ["a"])
        #expect(try RequestTarget(parsing: "/a%3Bb/c").encoded == "/a/c")
        #expect(try RequestTarget(parsing: "/a%3Fb").encoded == "/a%3Fb")
    }

    @Test("malformed or ambiguous paths are refused", arguments: [
        ("", RequestTarget.ParseError.notOriginForm),
        ("admin", .notOriginForm),
        ("*", .notOriginForm),
        ("http://evil.example/admin", .notOriginForm),
        ("/admin%", .badPercentEncoding),
        ("/admin%2", .badPercentEncoding),
        ("/admin%zz", .badPercentEncoding),
        ("/admin%00/x", .forbiddenCharacter),
        ("/admin%0a", .forbiddenCharacter),
        ("/admin%0d%0aX-Injected: 1", .forbiddenCharacter),
        ("/admin%252e%252e/x", .doubleEncoded),
        ("/%252F", .doubleEncoded),
        ("/admin%C0%AE%C0%AE", .invalidUTF8),
        ("/x?a b", .forbiddenCharacter),
    ])
    func refused(_ raw: String, _ error: RequestTarget.ParseError) {
        #expect(throws: error) { try RequestTarget(parsing: raw) }
    }

    @Test("an overlong target is refused")
    func tooLong() {
        let raw = "/" + String(repeating: "a", count: RequestTarget.maximumLength)
        #expect(throws: RequestTarget.ParseError.tooLong) { try RequestTarget(parsing: raw) }
    }

    @Test("prefixes match whole segments only")
    func wholeSegments() throws {
        let path = try RequestTarget(parsing: "/admin/teammatesX").path
        #expect(!path.hasPrefix(["admin", "teammates"]))
        #expect(path.hasPrefix(["admin"]))
        #expect(path.hasPrefix([]))
    }

    @Test("host names are normalised", arguments: [
        ("LocalHost", "localhost"),
        ("localhost:8443", "localhost"),
        ("admin.example.com.", "admin.example.com"),
        ("[::1]:8443", "[::1]"),
        ("[2001:DB8::1]", "[2001:db8::1]"),
        ("127.0.0.1:443", "127.0.0.1"),
    ])
    func hosts(_ raw: String, _ expected: String) {
        #expect(HostName(raw)?.value == expected)
    }

    @Test("bad hosts are refused", arguments: [
        "", "a..b", "evil.com/x", "evil.com:99999", "evil.com:", "[::1", "[zz]", "a b", "evil.com@good.com", "host:8443:1",
        ".", "exa\u{0}mple.com", "a..", ".a", "a.b..",
    ])
    func badHosts(_ raw: String) {
        #expect(HostName(raw) == nil)
    }
}
