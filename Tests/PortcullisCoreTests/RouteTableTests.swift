import Foundation
import PortcullisCore
import Testing

private let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)

private func route(_ name: String, _ path: String, host: String? = nil, methods: Set<String>? = nil, require: RouteRequirement = .authenticated) -> Route {
    Route(
        name: name, host: host.flatMap(HostName.init), prefix: path.split(separator: "/").map(String.init),
        methods: methods, target: .upstream(app), requirement: require
    )
}

@Suite("Route table")
struct RouteTableTests {
    let table = RouteTable(routes: [
        route("app", "/"),
        route("admin", "/admin", require: .permission(.teammatesView)),
        route("teammates", "/admin/teammates", methods: ["GET", "HEAD", "POST"], require: .permission(.teammatesView)),
        route("admin-host", "/admin", host: "admin.example.com", require: .role(.primary(.superAdmin))),
        route("public", "/public", require: .public),
    ])

    func name(_ host: String?, _ target: String, _ method: String = "GET") throws -> String {
        let path = try RequestTarget(parsing: target).path
        switch table.match(host: host.flatMap(HostName.init), path: path, method: method) {
        case .route(let route): return route.name
        case .noRoute: return "404"
        case .methodNotAllowed(let route): return "405 \(route.name)"
        case .lookAlike(let route): return "400 \(route.name)"
        }
    }

    @Test("a prefix matches without regard to ASCII case: /ADMIN/teammates cannot slip past its route", arguments: [
        ("/ADMIN/teammates", "teammates"),
        ("/Admin/TeamMates/42", "teammates"),
        ("/%41dmin", "admin"),
        ("/PUBLIC", "public"),
    ])
    func caseInsensitive(_ target: String, _ expected: String) throws {
        #expect(try name(nil, target) == expected)
    }

    @Test("a case-sensitive route matches its own spelling only; a Unicode look-alike of any route is refused, never matched to a shorter prefix")
    func caseSensitive() throws {
        let exact = Route(name: "exact", prefix: ["Exact"], target: .upstream(app), requirement: .authenticated, caseSensitive: true)
        let kit = Route(name: "kit", prefix: ["kit"], target: .upstream(app), requirement: .authenticated)
        let table = RouteTable(routes: [route("app", "/"), exact, kit])
        func match(_ target: String) throws -> String? {
            switch table.match(host: nil, path: try RequestTarget(parsing: target).path, method: "GET") {
            case .route(let route): return route.name
            case .lookAlike(let route): return "look-alike \(route.name)"
            default: return nil
            }
        }
        #expect(try match("/Exact/x") == "exact")
        #expect(try match("/exact/x") == "app", "ASCII case on a case-sensitive route is the operator's choice")
        #expect(try match("/KIT") == "kit")
        // U+212A KELVIN SIGN: never equal to k in the comparison, but a server that folds case
        // would serve /kit for it: refused rather than sent to "app".
        #expect(try match("/%E2%84%AAit") == "look-alike kit")
        #expect(try match("/Exact./x") == "look-alike exact")
    }

    @Test("longest prefix wins", arguments: [
        ("/", "app"),
        ("/anything", "app"),
        ("/admin", "admin"),
        ("/admin/", "admin"),
        ("/admin/settings", "admin"),
        ("/admin/teammates", "teammates"),
        ("/admin/teammates/42", "teammates"),
        ("/admin/teammatesX", "admin"),
        ("/public/../admin/teammates", "teammates"),
        ("/public/%2e%2e/admin", "admin"),
        ("/public%2F..%2Fadmin%2Fteammates", "teammates"),
        ("/public;x/../admin", "admin"),
        ("/_portcullis/login", "portcullis"),
        ("/_portcullis", "portcullis"),
    ])
    func longestPrefix(_ target: String, _ expected: String) throws {
        #expect(try name("localhost", target) == expected)
    }

    @Test("a route naming the host beats one that does not")
    func hostSpecific() throws {
        #expect(try name("admin.example.com", "/admin/x") == "admin-host")
        #expect(try name("ADMIN.example.com:8443", "/admin") == "admin-host")
        #expect(try name("other.example.com", "/admin/x") == "admin")
        // Longer prefixes still win over host specificity.
        #expect(try name("admin.example.com", "/admin/teammates") == "teammates")
    }

    @Test("a method the best route does not allow is refused, not passed to a shorter route")
    func methods() throws {
        #expect(try name("localhost", "/admin/teammates", "POST") == "teammates")
        #expect(try name("localhost", "/admin/teammates", "DELETE") == "405 teammates")
        #expect(try name("localhost", "/admin/teammates", "HEAD") == "teammates")
    }

    @Test("no match is a refusal")
    func defaultDeny() throws {
        let hostOnly = RouteTable(routes: [route("a", "/admin", host: "admin.example.com")])
        let path = try RequestTarget(parsing: "/admin").path
        #expect(hostOnly.match(host: HostName("other.example.com"), path: path, method: "GET") == .noRoute)
        #expect(hostOnly.match(host: nil, path: path, method: "GET") == .noRoute)
        #expect(hostOnly.match(host: HostName("admin.example.com"), path: try RequestTarget(parsing: "/").path, method: "GET") == .noRoute)
    }

    @Test("configured routes cannot take over the reserved prefix")
    func reserved() throws {
        let sneaky = RouteTable(routes: [route("sneaky", "/_portcullis/api", require: .public)])
        let path = try RequestTarget(parsing: "/_portcullis/api/v1/teammates").path
        guard case .route(let matched) = sneaky.match(host: nil, path: path, method: "GET") else {
            Issue.record("no route")
            return
        }
        #expect(matched.name == "portcullis")
        #expect(matched.target == .controlPlane)
    }

    @Test("a path a lenient server would serve as a route's is refused as a look-alike (issue 21 item 8)", arguments: [
        "/ADM%C4%B0N/teammates",          // U+0130 LATIN CAPITAL I WITH DOT ABOVE
        "/adm%C4%B1n/teammates",          // U+0131 DOTLESS I
        "/%EF%BD%81%EF%BD%84%EF%BD%8D%EF%BD%89%EF%BD%8E", // fullwidth ａｄｍｉｎ
        "/admi%CC%81n",                   // i and a combining acute accent
        "/admin.",                        // IIS trims a trailing dot
        "/admin%20/teammates",            // ...and a trailing space
        "/admin../x",
        "/publ%C4%B1c",                   // even a public route: the upstream decides nothing on it
        "/admin/teammate%C5%BF",          // U+017F LONG S, under a longer prefix
        // Compatibility forms, ignorables and NTFS streams (adversarial review of issue 21):
        "/%F0%9D%90%9Admin",              // U+1D41A MATHEMATICAL BOLD SMALL A
        "/%E2%93%90dmin",                 // U+24D0 CIRCLED LATIN SMALL LETTER A
        "/a%E2%85%BE%E2%85%BF%E2%85%B0n", // U+217E/U+217F/U+2170 small roman numerals d, m, i
        "/adm%E1%B5%A2n",                 // U+1D62 LATIN SUBSCRIPT SMALL LETTER I
        "/admi%E2%81%BF",                 // U+207F SUPERSCRIPT LATIN SMALL LETTER N
        "/ad%C2%ADmin",                   // U+00AD SOFT HYPHEN
        "/admin%E2%80%8B",                // U+200B ZERO WIDTH SPACE
        "/adm%E2%80%8Din",                // U+200D ZERO WIDTH JOINER
        "/admin%C2%A0",                   // U+00A0 NO-BREAK SPACE (NFKC: a space, then trimmed)
        "/admin::$INDEX_ALLOCATION/x",    // IIS directory stream
        "/admin:x:$DATA",                 // a named NTFS stream
        // Segments that fold into dot segments or separators (adversarial review, round 3):
        "/public/%EF%BC%8E%EF%BC%8E/admin/x", // FULLWIDTH FULL STOP twice
        "/public/%E2%80%A5/admin/x",      // U+2025 TWO DOT LEADER (NFKD: ..)
        "/public/%E2%80%A4%E2%80%A4/admin/x", // U+2024 ONE DOT LEADER twice
        "/public/x%EF%BC%8F..%EF%BC%8F..%EF%BC%8Fadmin", // FULLWIDTH SOLIDUS
        "/public/x%EF%BC%BC..%EF%BC%BC..%EF%BC%BCadmin", // FULLWIDTH REVERSE SOLIDUS
    ])
    func lookAlikes(_ target: String) throws {
        let matched = try name(nil, target)
        #expect(matched.hasPrefix("400 "), "\(target) was matched as \(matched)")
    }

    @Test("non-ASCII that imitates no route, and dots inside a segment, are ordinary paths", arguments: [
        ("/caf%C3%A9", "app"),
        ("/admin/r%C3%A9sum%C3%A9", "admin"),
        ("/file.tar.gz", "app"),
        ("/admin/v1.2/x", "admin"),
        ("/%E6%97%A5%E6%9C%AC", "app"),
        ("/users:search", "app"),
        ("/admin/users:search", "admin"),
        ("/%E2%84%96", "app"),            // U+2116 NUMERO SIGN (NFKC: No) imitates nothing
    ])
    func ordinaryPaths(_ target: String, _ expected: String) throws {
        #expect(try name(nil, target) == expected)
    }

    @Test("the policy refuses a look-alike 400 look_alike_path, naming the route it imitates")
    func policyRefusesLookAlike() {
        let policy = AccessPolicy(routes: table)
        let decision = policy.evaluate(AccessRequest(method: "GET", host: "app.example.com", target: "/adm%C4%B1n/teammates", client: IPAddress(ipv4: 198, 51, 100, 7), identity: .anonymous), now: .init(timeIntervalSince1970: 0))
        #expect(decision.outcome == .badRequest)
        #expect(decision.reason == .lookAlikePath)
        #expect(decision.route?.name == "teammates")
    }
}
