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

    @Test("a case-sensitive route matches its own spelling only; Unicode letters are never folded")
    func caseSensitive() throws {
        let exact = Route(name: "exact", prefix: ["Exact"], target: .upstream(app), requirement: .authenticated, caseSensitive: true)
        let kit = Route(name: "kit", prefix: ["kit"], target: .upstream(app), requirement: .authenticated)
        let table = RouteTable(routes: [route("app", "/"), exact, kit])
        func match(_ target: String) throws -> String? {
            if case .route(let route) = table.match(host: nil, path: try RequestTarget(parsing: target).path, method: "GET") { return route.name }
            return nil
        }
        #expect(try match("/Exact/x") == "exact")
        #expect(try match("/exact/x") == "app")
        #expect(try match("/KIT") == "kit")
        // U+212A KELVIN SIGN lower-cases to k in Unicode, never in an ASCII comparison.
        #expect(try match("/%E2%84%AAit") == "app")
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
}
