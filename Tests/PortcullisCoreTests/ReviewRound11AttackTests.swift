import Foundation
import PortcullisCore
import Testing

private func route(_ name: String, _ path: String, require: RouteRequirement = .authenticated) -> Route {
    RouteTableProbe.route(name, path, require: require)
}

/// Adversarial review of issue 21, round 11 (16b8f14): the round-10 fixes (the query's method
/// override as PHP names it, the PATH_INFO reading across a route's own script) read once more as
/// PHP and front controllers read them.
@Suite("Review round 11: the round-10 readings, once more as PHP reads them")
struct ReviewRound11CoreAttackTests {
    static let items = Route(
        name: "items", prefix: ["items"], methods: ["GET", "HEAD", "POST"], target: .upstream(RouteTableProbe.app), requirement: .public
    )

    static func outcome(_ target: String) -> AccessDecision.Outcome {
        AccessPolicy(routes: RouteTable(routes: [items])).evaluate(
            AccessRequest(method: "POST", host: "app.example.com", target: target, client: IPAddress(ipv4: 198, 51, 100, 7), identity: .anonymous),
            now: .init(timeIntervalSince1970: 0)
        ).outcome
    }

    /// FINDING (LOW, PHP apps that take `_method` from the query: Laravel by default, Symfony
    /// with `http_method_override`; same exposure as rounds 9 and 10, a way round the round-10
    /// fix): `RequestTarget.methodOverrides` decodes a parameter name with Foundation's
    /// `removingPercentEncoding`, which gives up on the *whole* name when any escape in it is
    /// malformed (`%zz`, a lone `%`) or decodes to bytes that are not UTF-8 (`%FF`), and then
    /// reads the name as written, where `%00` is three characters, not a NUL. PHP decodes a
    /// name escape by escape (`php_url_decode` leaves a malformed `%` as it is, and does not care
    /// about UTF-8), then registers it only up to its first NUL. So
    /// `POST /items/42?_method%00%zz=DELETE` (or `%00%FF`, `%00%`) is `$_GET['_method'] ===
    /// 'DELETE'` to PHP, and a DELETE to Symfony's `Request::getMethod()`, on a route whose
    /// `methods:` are GET, HEAD and POST; the gateway sees a parameter named `_method%00%zz`
    /// and lets it through. Safe behaviour asserted: refused 405, as `?_method%00x=DELETE` is.
    @Test("a _method name PHP cuts at a NUL is held to the route's methods, whatever follows the NUL", arguments: [
        "/items/42?_method%00%zz=DELETE",
        "/items/42?_method%00%FF=DELETE",
        "/items/42?_method%00%=DELETE",
        "/items/42?.method%00%C0=PUT",
    ])
    func nulCutNameWithUndecodableTail(_ target: String) {
        // Found in round 11, not fixed yet: held as a known issue so that the fix shows here.
        withKnownIssue("review round 11, finding 4 (LOW): a NUL-cut _method name with an undecodable tail") {
            #expect(Self.outcome(target) == .methodNotAllowed, "\(target) is allowed; PHP reads it as _method=DELETE/PUT")
        }
    }

    /// HELD: the round-10 forms stay refused, and names that PHP does not read as `_method`
    /// (a malformed escape before the NUL, an array) are not asserted either way.
    @Test("held: round-10 method overrides stay refused")
    func methodOverrideHeld() {
        for refused in ["/items/42?_method%00x=DELETE", "/items/42?%5F%6Dethod=delete", "/items/42?a=1&_method=PATCH"] {
            #expect(Self.outcome(refused) == .methodNotAllowed, "\(refused)")
        }
        for allowed in ["/items/42?_method=POST", "/items/42?x=%zz", "/items/42?q=_method%00"] {
            #expect(Self.outcome(allowed) != .methodNotAllowed, "\(allowed)")
        }
    }

    /// FINDING (MEDIUM, configuration-dependent; the README documents the behaviour as intended
    /// for `/wiki/index.php/Main_Page` to `/`, but not its consequence when the route above is
    /// the *stricter* one): the round-10 PATH_INFO rule refuses a reading only when the route
    /// it falls to has a prefix reaching past the script (`other.prefix.count > script`). When
    /// a route's prefix is itself the front controller and the route above it is stricter (the
    /// round-10 test's own table: `/` authenticated, `/index.php` public so the home page can be
    /// shown), `GET /index.php/dashboard` is decided as the public `front` route, and the front
    /// controller serves its PATH_INFO `/dashboard`: the page the app serves at `/dashboard`,
    /// which only signed-in users may reach through `/`. Likewise `/blog/index.php/drafts`
    /// with a public `/blog/index.php` and a `/blog` for editors. An anonymous caller reaches
    /// every page of the app the stricter route guards. Safe behaviour asserted: such a path is
    /// refused (look-alike) or decided under the route its PATH_INFO reading falls to, not the
    /// script route's weaker policy.
    @Test("a public front-controller route does not carry its stricter parent's pages", arguments: [
        ("/index.php/dashboard", "app"),
        ("/index.php/settings/profile", "app"),
        ("/blog/index.php/drafts", "blog"),
    ])
    func scriptRouteUnderStricterParent(_ target: String, _ stricter: String) throws {
        let probe = RouteTableProbe([
            route("app", "/", require: .authenticated),
            route("front", "/index.php", require: .public),
            route("blog", "/blog", require: .role(.primary(.superAdmin))),
            route("blog-front", "/blog/index.php", require: .public),
        ])
        let matched = try probe.name(target)
        withKnownIssue("review round 11, finding 2 (MEDIUM, configuration): a public script route under a stricter parent") {
            #expect(matched == stricter || matched.hasPrefix("400"), "\(target) was matched as \(matched)")
        }
    }

    /// HELD: PATH_INFO readings in combination (several scripts, a script that is no PHP
    /// file, a script below a route's prefix, trailing slashes, case) are refused or stay the
    /// route's where the app would read the same route.
    @Test("held: PATH_INFO readings in combination", arguments: [
        ("/index.php/admin/", "400"),
        ("/x.pl/index.php/admin", "app"),            // the reading /index.php/admin is the public route's; no PHP server runs /x.pl/index.php as /index.php
        ("/index.php/index.php/admin", "app"),       // PATH_INFO /index.php/admin to nginx and Symfony (round 10)
        ("/Index.PHP/ADMIN/x", "400"),
        ("/index.php/x/../admin", "400"),
        ("/public/index.php/admin", "app"),          // reading /public/admin is the public route's
        ("/index.aspx/admin.json", "400"),
    ])
    func pathInfoHeld(_ target: String, _ expected: String) throws {
        let probe = RouteTableProbe([
            route("app", "/", require: .public),
            route("admin", "/admin", require: .role(.primary(.superAdmin))),
        ])
        let matched = try probe.name(target)
        #expect(matched == expected || (expected == "400" && matched.hasPrefix("400")), "\(target) was matched as \(matched)")
    }
    /// FINDING (LOW, needs a route whose last prefix segment holds a dot, such as a dotted API
    /// version, and a Rails-like router): the format-suffix reading cuts each segment at its
    /// *first* dot, but Rails' `(.:format)` follows a literal segment as written: a route
    /// `get "/api/v1.0"` is the regular expression `/api/v1\.0(?:\.(?<format>[^/.?]+))?`, so
    /// `/api/v1.0.json` is that route's action with `format: json`. The table cuts
    /// `v1.0.json` to `v1`, which is no prefix segment (the `relevant` shortcut skips the
    /// reading, and the reading `/api/v1` would be the public route's anyway): the request is
    /// decided under the public `/` route. Safe behaviour asserted: refused as the dotted
    /// route's look-alike (or decided under it).
    @Test("a format suffix after a dotted prefix segment is not the public route's", arguments: [
        ("/api/v1.0.json", "v1"),
        ("/api/v1.0.xml", "v1"),
    ])
    func suffixAfterDottedPrefix(_ target: String, _ stricter: String) throws {
        let probe = RouteTableProbe([
            route("app", "/", require: .public),
            route("v1", "/api/v1.0", require: .role(.primary(.superAdmin))),
        ])
        let matched = try probe.name(target)
        withKnownIssue("review round 11, finding 5 (LOW): a format suffix after a dotted prefix segment") {
            #expect(matched == stricter || matched == "400 \(stricter)", "\(target) was matched as \(matched)")
        }
    }
    /// FINDING (MEDIUM, depends on the app's stack; the same class as round 9's PHP front
    /// controller): the PATH_INFO reading knows a script segment only by the extensions of
    /// PHP, classic ASP/ASP.NET handlers, CGI/FastCGI and Perl. Other stacks route on the path
    /// past a script in the same way: ColdFusion and Lucee apps' "SES" URLs
    /// (`/index.cfm/admin/users`, the default of the ColdBox and FW/1 frameworks), WCF REST
    /// services (`/Api.svc/admin/users`, the service's `UriTemplate` matches the rest), ISAPI
    /// extensions such as Delphi WebBroker apps (`/app.dll/admin`, their `PathInfo`), and
    /// mod_wsgi's `AddHandler wsgi-script .wsgi` (`/app.wsgi/admin` is Flask's or Django's
    /// `/admin`). Each is decided under the public `/` route while the app serves the page
    /// `/admin` protects. Safe behaviour asserted: refused as a look-alike of `/admin`.
    @Test("a script of another stack carries its PATH_INFO past the public route", arguments: [
        "/index.cfm/admin/users",
        "/Api.svc/admin/users",
        "/app.dll/admin",
        "/app.wsgi/admin",
    ])
    func otherStacksPathInfo(_ target: String) throws {
        let probe = RouteTableProbe([
            route("app", "/", require: .public),
            route("admin", "/admin", require: .role(.primary(.superAdmin))),
        ])
        let matched = try probe.name(target)
        withKnownIssue("review round 11, finding 3 (MEDIUM, app stack): script extensions of other stacks") {
            #expect(matched == "admin" || matched.hasPrefix("400"), "\(target) was matched as \(matched)")
        }
    }
    static func anonymousOutcome(_ target: String) -> AccessDecision.Outcome {
        let table = RouteTable(routes: [
            route("app", "/", require: .public),
            route("admin", "/admin", require: .role(.primary(.superAdmin))),
        ])
        return AccessPolicy(routes: table).evaluate(
            AccessRequest(method: "GET", host: "app.example.com", target: target, client: IPAddress(ipv4: 198, 51, 100, 7), identity: .anonymous),
            now: .init(timeIntervalSince1970: 0)
        ).outcome
    }

    /// FINDING (MEDIUM, depends on the app: CodeIgniter 3 and 4 with their default
    /// `uri_protocol`/`uriProtocol` `REQUEST_URI`, Drupal 7): the app's route read from the
    /// query, the same kind of front-controller reading as PATH_INFO (round 9) and `_method`
    /// (round 9, 10). CodeIgniter reads the URI from a query that starts with `/` when the path
    /// is its front controller or `/` ("so that servers that put the URI in the query string,
    /// nginx, work": `parseRequestURI`/`_parse_request_uri`), so `GET /?/admin/users` and
    /// `GET /index.php?/admin/users` are its `admin/users`; Drupal 7's `request_path()` takes
    /// `$_GET['q']` before REQUEST_URI on *any* path, so `GET /?q=admin/people` and even
    /// `GET /node/1?q=admin/people` are its `admin/people`. The gateway forwards the query
    /// untouched and decides each under the public `/` route: an anonymous caller reaches the
    /// pages `/admin` protects. Safe behaviour asserted: not allowed (refused as a look-alike
    /// of `/admin`, or decided under it).
    @Test("an app route named in the query is not the public route's", arguments: [
        "/?/admin/users",
        "/index.php?/admin/users",
        "/?q=admin/people",
        "/node/1?q=admin/people",
    ])
    func routeInQuery(_ target: String) {
        withKnownIssue("review round 11, finding 1 (MEDIUM, app): the app's route named in the query") {
            #expect(Self.anonymousOutcome(target) != .allow, "\(target) is allowed anonymously; the app serves its /admin page")
        }
    }

    /// HELD (sanity): ordinary queries on the public route stay allowed, and `/admin` itself is
    /// refused to an anonymous caller.
    @Test("held: ordinary queries pass; /admin is refused")
    func ordinaryQueries() {
        for allowed in ["/search?q=kittens", "/?page=2", "/?next=/dashboard"] {
            #expect(Self.anonymousOutcome(allowed) == .allow, "\(allowed)")
        }
        #expect(Self.anonymousOutcome("/admin/users") != .allow)
    }
}
