import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 9 (8b216ba): readings of the path (and query) that the
/// app's own router makes and the route table does not.
@Suite("Review round 9: format suffixes, front controllers, the query")
struct ReviewRound9CoreAttackTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("staff", "/staff", require: .authenticated),
        route("users", "/staff/users", require: .permission(.teammatesView)),
        route("admin", "/admin", require: .role(.primary(.superAdmin))),
    ])

    func name(_ target: String) throws -> String {
        try probe.name(target)
    }

    /// FINDING (MEDIUM, depends on the app's framework): a format suffix on a route's last
    /// prefix segment. Ruby on Rails gives every route an optional `(.:format)` by default, so
    /// `GET /staff/users.json` is `users#index` (`/staff/users`) with `format: json`, and
    /// `POST /staff/users.json` is `users#create`; Spring MVC before 5.3 matched
    /// `@GetMapping("/staff/users")` for `/staff/users.json` and `/staff/users.anything`
    /// (suffix pattern matching was on by default, the reason Spring Security's `mvcMatchers`
    /// exist); Django REST Framework's `format_suffix_patterns` and Symfony's `{_format}` do the
    /// same when asked. The table compares whole segments, so `users.json` is not `users`: the
    /// request falls to the shorter `/staff` route (any signed-in user) or, for `/admin.json`,
    /// to the public `/` route, and the app serves the stricter route's handler. The same class
    /// as `/admin.` and `/admin::$DATA`, which the table already refuses as look-alikes; the
    /// exposure is the handler mapped at exactly a route's prefix (an index or create action,
    /// typically a list of every user). Safe behaviour asserted: such a path is the route's, or
    /// refused (400 look_alike_path), never a weaker route's.
    @Test("a format suffix on a route's last prefix segment is not a weaker route's path", arguments: [
        ("/staff/users.json", "users"),
        ("/staff/users.xml", "users"),
        ("/staff/users.csv", "users"),
        ("/admin.json", "admin"),
        ("/admin.html", "admin"),
    ])
    func formatSuffix(_ target: String, _ stricter: String) throws {
        let matched = try name(target)
        #expect(matched == stricter || matched == "400 \(stricter)", "\(target) was matched as \(matched)")
    }

    /// FINDING (MEDIUM, depends on the app): a PHP front controller's PATH_INFO. Laravel,
    /// Symfony, WordPress, Drupal 8+ and most PHP frameworks route on the part of the request
    /// URI past the script name: `/index.php/admin/users` is `/admin/users` to them, whether the
    /// web server hands it over as PATH_INFO (Apache's AcceptPathInfo, nginx's
    /// `fastcgi_split_path_info`) or through a `try_files … /index.php` fallback (Symfony's
    /// `Request::getPathInfo()` strips the leading `/index.php` from REQUEST_URI itself). The
    /// table sees a first segment `index.php`, which is no route's, and decides the request
    /// under the public `/` route: an anonymous caller reaches every page behind `/admin`.
    /// Safe behaviour asserted: such a path is refused, or decided under the route its
    /// PATH_INFO belongs to, never under the public route.
    @Test("a front controller's PATH_INFO is not the public route's path", arguments: [
        ("/index.php/admin/users", "admin"),
        ("/index.php/staff/users", "users"),
        ("/app.php/admin", "admin"),
        ("/app_dev.php/admin", "admin"),
    ])
    func frontControllerPathInfo(_ target: String, _ stricter: String) throws {
        let matched = try name(target)
        #expect(matched == stricter || matched == "400 \(stricter)", "\(target) was matched as \(matched)")
    }

    /// FINDING (LOW): a method override in the query. The gateway strips every header that
    /// asks a framework for another method (`X-HTTP-Method-Override`, …) so that a route's
    /// `methods:` holds, but forwards the query untouched. Symfony (and so Laravel, which turns
    /// `httpMethodParameterOverride` on) reads `_method` from the query of a POST as well as
    /// from its body: `POST /items/42?_method=DELETE` is a DELETE to the app on a route that
    /// allows only GET and POST. (The form-body `_method` does the same and no gateway that
    /// streams bodies can see it, which is why this is LOW; the query form is the one the
    /// gateway forwards knowingly.) Safe behaviour asserted: refused, or the `_method` not
    /// forwarded.
    @Test("a route's methods hold against a method override in the query")
    func queryMethodOverride() {
        let items = Route(
            name: "items", prefix: ["items"], methods: ["GET", "HEAD", "POST"], target: .upstream(RouteTableProbe.app),
            requirement: .public
        )
        let policy = AccessPolicy(routes: RouteTable(routes: [items]))
        let decision = policy.evaluate(
            AccessRequest(method: "POST", host: "app.example.com", target: "/items/42?_method=DELETE",
                          client: IPAddress(ipv4: 198, 51, 100, 7), identity: .anonymous),
            now: .init(timeIntervalSince1970: 0)
        )
        let forwarded = decision.target?.encoded ?? ""
        #expect(!decision.isAllowed || !forwarded.contains("_method="), "allowed POST, the app gets \(forwarded)")
    }

    // MARK: held

    /// HELD: encodings that a single-decoding upstream could read as a separator, a dot
    /// segment or another byte are decoded here first, or refused.
    @Test("held: encoded separators, dots, NUL, double and overlong encodings", arguments: [
        ("/x%2F..%2Fadmin/y", "admin"),
        ("/x%5C..%5Cadmin/y", "admin"),
        ("/x/%2e%2e/admin/y", "admin"),
        ("/x/..;/admin/y", "admin"),
        ("/x/.%2e;jsessionid=1/admin/y", "admin"),
        ("/admin;/y", "admin"),
        ("//admin/y", "admin"),
        ("/ADMIN/y", "admin"),
        ("/staff/users/", "users"),
        ("/staff/USERS;x/y", "users"),
    ])
    func encodingsHeld(_ target: String, _ expected: String) throws {
        #expect(try name(target) == expected)
    }

    @Test("held: targets that cannot be read one way are refused", arguments: [
        "/admin%00/y", "/x/%252e%252e/admin", "/x/%C0%AE%C0%AE/admin", "/x/%C0%AF..%C0%AFadmin", "/admin%", "/admin%2",
        "*", "http://app.example.com/admin", "app.example.com:443",
    ])
    func refusedHeld(_ target: String) {
        #expect(throws: RequestTarget.ParseError.self) { try RequestTarget(parsing: target) }
    }

    /// HELD: what goes upstream keeps `?`, `#`, `%` and `;` inside a segment encoded, so the
    /// upstream cannot cut the path where the decision did not.
    @Test("held: the upstream path keeps decoded delimiters encoded", arguments: [
        ("/a%3Fb/c", "/a%3Fb/c"),
        ("/a%23b/c", "/a%23b/c"),
        ("/a%25zz/c", "/a%25zz/c"),
        ("/a%3Bb/c", "/a"),          // `;` decoded first, then cut as a parameter
        ("/a%20b/c", "/a%20b/c"),
    ])
    func encodedHeld(_ target: String, _ upstream: String) throws {
        #expect(try RequestTarget(parsing: target).path.encoded.hasPrefix(upstream))
    }
}

/// What the round-9 fixes must not refuse: a dot, a script or a `_method` that stays within its
/// route, and what a route written for it matches.
@Suite("Review round 9: the readings leave ordinary paths alone")
struct ReviewRound9FixBoundsTests {
    let probe = RouteTableProbe([
        route("app", "/", require: .public),
        route("staff", "/staff", require: .authenticated),
        route("users", "/staff/users", require: .permission(.teammatesView)),
        route("users-json", "/staff/users.json", require: .permission(.teammatesView)),
        route("admin", "/admin", require: .role(.primary(.superAdmin))),
        route("blog", "/blog/index.php", require: .public),
    ])

    @Test("ordinary dotted, script and colon paths keep their route", arguments: [
        ("/static/app.js", "app"), ("/favicon.ico", "app"), ("/.well-known/openid-configuration", "app"),
        ("/staff/report.pdf", "staff"), ("/staff/users/42.json", "users"), ("/staff/users.json", "users-json"),
        ("/index.php", "app"), ("/wiki/index.php/Main_Page", "app"), ("/blog/index.php/2024/hello", "blog"),
        ("/admin/index.php/x", "admin"), ("/staff/users/index.php/admin", "users"),
    ])
    func ordinaryPaths(_ target: String, _ expected: String) throws {
        #expect(try probe.name(target) == expected)
    }

    @Test("a format or PATH_INFO reading of another route is refused as that route's look-alike", arguments: [
        ("/staff/users.csv", "400 users"), ("/admin.json/x", "400 admin"), ("/index.php/admin/y", "400 admin"),
        ("/x/index.php/admin/y", "app"),  // PATH_INFO past a script below /x is /x/admin/y
        ("/index.php/staff/users.json", "400 users-json"), ("/ADMIN.json", "400 admin"), ("/ａdmin.json", "400 admin"),
        ("/index.php/admin:x", "400 admin"),
    ])
    func readingsRefused(_ target: String, _ expected: String) throws {
        let written = target.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? target
        #expect(try probe.name(written) == expected)
    }

    @Test("_method in the query: refused when the route's methods do not allow it, passed otherwise")
    func methodOverrideBounds() throws {
        let items = Route(
            name: "items", prefix: ["items"], methods: ["GET", "HEAD", "POST"], target: .upstream(RouteTableProbe.app), requirement: .public
        )
        let open = Route(name: "open", prefix: ["open"], target: .upstream(RouteTableProbe.app), requirement: .public)
        let policy = AccessPolicy(routes: RouteTable(routes: [items, open]))
        func outcome(_ target: String) -> AccessDecision.Outcome {
            policy.evaluate(
                AccessRequest(method: "POST", host: "app.example.com", target: target, client: IPAddress(ipv4: 198, 51, 100, 7), identity: .anonymous),
                now: .init(timeIntervalSince1970: 0)
            ).outcome
        }
        for refused in ["/items/1?_method=DELETE", "/items/1?a=1&_METHOD=put", "/items/1?%5Fmethod=patch", "/items/1?_method=get&_method=DELETE",
                        "/items/1?X-HTTP-Method-Override=DELETE", "/items/1?_method=+delete+"] {
            #expect(outcome(refused) == .methodNotAllowed, "\(refused)")
        }
        for allowed in ["/items/1?_method=GET", "/items/1?method=DELETE", "/items/1?x_method=DELETE", "/open/1?_method=DELETE", "/items/1"] {
            #expect(outcome(allowed) != .methodNotAllowed, "\(allowed)")
        }
    }
}
