import NIOCore
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisDataPathTesting
import PortcullisTestSupport
import Testing

/// Forward-auth in memory: the same decision as the proxy, asked by another proxy, believed only
/// from a trusted proxy. The tests with real nginx and Caddy are in PortcullisServerTests.
@Suite("Forward-auth answers")
struct ForwardAuthTests {
    static let proxy = IPAddress(ipv4: 10, 0, 0, 5)
    static let app = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)
    static let routes = [
        Route(name: "public", prefix: ["public"], target: .upstream(app), requirement: .public),
        Route(name: "office", prefix: ["office"], target: .upstream(app), requirement: .authenticated, greenlist: "office"),
        Route(name: "app", prefix: [], target: .upstream(app), requirement: .authenticated),
    ]

    static func gateway(_ forwardAuth: ForwardAuthConfiguration = ForwardAuthConfiguration()) -> InMemoryGateway {
        InMemoryGateway(
            routes: routes, trustedProxies: [IPRange(address: proxy)], forwardAuth: forwardAuth,
            authenticator: StaticAuthenticator(sessions: [
                "good": StaticAuthenticator.user("ada@example.com"),
                "revoked": StaticAuthenticator.user("sam@example.com", revoked: true),
            ])
        )
    }

    static func ask(_ gateway: InMemoryGateway, from peer: IPAddress = proxy, _ request: String) throws -> String {
        let client = try gateway.connect(from: peer)
        client.send(request)
        gateway.settle()
        return client.text
    }

    @Test("nginx auth_request: a signed-in caller gets 200 with the identity headers, nothing goes upstream")
    func allowedAuthRequest() throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /reports?q=1\r\nX-Original-Method: POST\r\nX-Forwarded-For: 198.51.100.7\r\nCookie: __Host-portcullis=good\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
        #expect(answer.contains("X-Portcullis-User: id-ada@example.com"))
        #expect(answer.contains("X-Portcullis-Email: ada@example.com"))
        #expect(gateway.upstreams.connections.isEmpty)
        let entry = try #require(gateway.accessLog.last)
        #expect(entry.metadata["route"] == "app")
        #expect(entry.metadata["method"] == "POST")
        #expect(entry.metadata["path"] == "/reports")
        #expect(entry.metadata["client"] == "198.51.100.7")
        #expect(entry.metadata["decision"] == "allow")
    }

    @Test("Traefik and Caddy forward-auth: X-Forwarded-Method/-Host/-Uri, the same answer")
    func allowedForwardAuth() throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: gateway\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /\r\nX-Forwarded-For: 198.51.100.7\r\nCookie: __Host-portcullis=good\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
        #expect(answer.contains("X-Portcullis-Role: member"))
    }

    @Test("sign-in needed: 401 for nginx and API clients, a 302 to the login with the original path for browsers on forward-auth")
    func signInNeeded() throws {
        let gateway = Self.gateway()
        let nginx = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nAccept: text/html\r\nX-Original-URI: /reports\r\nX-Original-Method: GET\r\n\r\n")
        #expect(nginx.hasPrefix("HTTP/1.1 401"), "\(nginx)")
        #expect(!nginx.contains("Location:"))
        let api = try Self.ask(gateway, "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /reports\r\n\r\n")
        #expect(api.hasPrefix("HTTP/1.1 401"))
        #expect(api.contains("\"reason\":\"login_required\""))
        let browser = try Self.ask(gateway, "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nAccept: text/html\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /reports?id=7\r\n\r\n")
        #expect(browser.hasPrefix("HTTP/1.1 302"), "\(browser)")
        #expect(browser.contains("Location: /_portcullis/login?rd=/reports%3Fid%3D7"))
    }

    @Test("a revoked session: 401 and its cookie cleared; never 200")
    func revoked() throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /\r\nX-Original-Method: GET\r\nCookie: __Host-portcullis=revoked\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
        #expect(answer.contains("session_revoked"))
        #expect(answer.contains("Set-Cookie: __Host-portcullis=;"))
        #expect(!answer.contains("X-Portcullis-User"))
        // On a public route the caller is anonymous: allowed, with no identity.
        let publicAnswer = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /public/x\r\nX-Original-Method: GET\r\nCookie: __Host-portcullis=revoked\r\n\r\n")
        #expect(publicAnswer.hasPrefix("HTTP/1.1 200"))
        #expect(!publicAnswer.contains("X-Portcullis-User"))
    }

    @Test("refused: 403 with the reason code, also for what the proxy cannot route")
    func refused() throws {
        let gateway = Self.gateway()
        let greenlist = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /office/x\r\nX-Original-Method: GET\r\nCookie: __Host-portcullis=good\r\n\r\n")
        #expect(greenlist.hasPrefix("HTTP/1.1 403"))
        #expect(greenlist.contains("X-Portcullis-Reason: ip_not_greenlisted"))
        let ownEndpoints = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /_portcullis/api/v1/me\r\nX-Original-Method: GET\r\nCookie: __Host-portcullis=good\r\n\r\n")
        #expect(ownEndpoints.hasPrefix("HTTP/1.1 403"))
    }

    @Test("forward-auth headers from a peer that is not a trusted proxy are refused, whatever they say", arguments: [
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /public/x\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Uri: /\r\nX-Forwarded-For: 10.0.0.5\r\nCookie: __Host-portcullis=good\r\n\r\n",
        "GET /_portcullis/auth?x=1 HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /\r\nX-Real-IP: 10.0.0.5\r\nCookie: __Host-portcullis=good\r\n\r\n",
    ])
    func untrusted(_ request: String) throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, from: IPAddress(ipv4: 203, 0, 113, 66), request)
        #expect(answer.hasPrefix("HTTP/1.1 403"), "\(answer)")
        #expect(answer.contains("forward_auth_untrusted"))
        #expect(!answer.contains("X-Portcullis-User"))
    }

    @Test("a proxy that does not say what to decide gets 400", arguments: [
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: reports\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /a\r\nX-Original-URI: /b\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URL: javascript:alert(1)\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Uri: /\r\nX-Forwarded-Method: get me\r\n\r\n",
    ])
    func malformed(_ request: String) throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, request)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        #expect(answer.contains("bad_forward_auth_request"))
    }

    @Test("a path the app behind the proxy could read as another one is refused 400, never decided as its normal form", arguments: [
        "/public/../x", "/admin/../public/x", "/admin/%2e%2e/public/x", "/admin/%2E./public/x", "/admin/..%2Fpublic/x",
        "/admin/..%5Cpublic/x", "/admin/..\\public/x", "/public/./x", "/admin;x/../public/x", "/public%2F..%2Fx",
        "/admin/..%3b/public/x", "/admin/%2e%2e%3Bx/public/x", "/admin/.%3b/public/x", "/public/x#/../../admin/x", "/public/x%zz",
    ])
    func dotSegmentsRefused(_ path: String) throws {
        let gateway = Self.gateway()
        for request in [
            "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: \(path)\r\n\r\n",
            "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\n"
                + "X-Forwarded-Uri: \(path)\r\n\r\n",
        ] {
            let answer = try Self.ask(gateway, request)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(path): \(answer)")
            #expect(answer.contains("bad_forward_auth_request"), "\(path)")
        }
    }

    @Test("plain paths with ;params, empty segments, encoded characters and dots inside names are decided as before", arguments: [
        ("/public/a;v=1", "200"), ("/public//x", "200"), ("/public/caf%C3%A9", "200"), ("/public/file.tar.gz", "200"),
        ("/public/..x", "200"), ("/public/x?next=/../admin", "200"), ("/reports", "401"),
    ])
    func plainPathsDecided(_ path: String, _ status: String) throws {
        let answer = try Self.ask(Self.gateway(), "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: \(path)\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 \(status)"), "\(path): \(answer)")
    }

    @Test("a question carrying a header the app could read as an identity or another request, in any spelling, is refused 400", arguments: [
        "X-Portcullis-User", "X-Portcullis_User", "x_portcullis-role", "X-PORTCULLIS-ASSERTION", "Remote-User", "X-Forwarded-User",
        "X-Auth-Request-Email", "X-Goog-Authenticated-User-Email", "X-Http-Method_Override", "X_Method-Override", "X-Middleware-Subrequest",
        "X-Script-Name", "X-Original-Host", "X-Envoy-Original-Path", "X-Forwarded-Prefix", "X_Portcullis_Act_As", "X-Portcullis_Act-As",
    ])
    func identityAndOverrideHeadersRefused(_ name: String) throws {
        let gateway = Self.gateway()
        for request in [
            "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /public/x\r\n\(name): root\r\n\r\n",
            "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\n"
                + "X-Forwarded-Uri: /public/x\r\n\(name): root\r\n\r\n",
        ] {
            let answer = try Self.ask(gateway, request)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(name): \(answer.prefix(300))")
            #expect(answer.contains("bad_forward_auth_request"), "\(name)")
        }
        // What the proxies set themselves, and act-as spelt as the gateway reads it, are questions as usual.
        let usual = try Self.ask(gateway, "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Method: GET\r\n"
            + "X-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /public/x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
        #expect(usual.hasPrefix("HTTP/1.1 200"), "\(usual.prefix(300))")
        let actAs = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /public/x\r\n"
            + "X-Portcullis-Act-As: someone@example.com\r\n\r\n")
        #expect(!actAs.contains("bad_forward_auth_request"), "\(actAs.prefix(300))")
    }

    @Test("forward_auth.original_url_header: X-Original-URL names the host and path, and must agree with Host")
    func originalURL() throws {
        let gateway = Self.gateway(ForwardAuthConfiguration(originalURLHeader: .originalURL))
        let answer = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test:8443\r\nX-Original-Method: GET\r\nX-Original-URL: https://app.test:8443/public/page?x=1\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(gateway.accessLog.last?.metadata["host"] == "app.test:8443")
        #expect(gateway.accessLog.last?.metadata["path"] == "/public/page")
        let otherHost = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URL: https://public.test/public/page\r\n\r\n")
        #expect(otherHost.hasPrefix("HTTP/1.1 400"), "\(otherHost)")
        #expect(otherHost.contains("X-Original-URL names another host than Host"))
        // Configured for X-Original-URL, an X-Original-URI beside it is a second source.
        let both = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URL: https://app.test/public/page\r\nX-Original-URI: /admin\r\n\r\n")
        #expect(both.hasPrefix("HTTP/1.1 400"), "\(both)")
    }

    /// What a client could add to its own request, which nginx passes on to `auth_request`
    /// (Caddy and Traefik to theirs): a header of the family the endpoint does not read, a
    /// second copy, a `_` spelling, a host the proxy did not choose.
    static let conflictingSources: [String] = [
        // nginx, configured for X-Original-URI (the default): the client adds X-Original-URL.
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /admin\r\nX-Original-URL: https://app.test/public/x\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /admin\r\nX-Rewrite-URL: /public/x\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /admin\r\nX-Forwarded-Uri: /public/x\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /admin\r\nX-Forwarded-Host: public.test\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: POST\r\nX-Original-URI: /admin\r\nX-Forwarded-Method: GET\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /admin\r\nX_Original_URI: /public/x\r\n\r\n",
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-Method: GET\r\nX-Original-Method: POST\r\nX-Original-URI: /public/x\r\n\r\n",
        // nginx without X-Original-Method: the subrequest's own method is not the client's.
        "GET /_portcullis/auth HTTP/1.1\r\nHost: app.test\r\nX-Original-URI: /public/x\r\n\r\n",
        // Caddy and Traefik: the client adds the nginx family, or a second host.
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /admin\r\nX-Original-URL: https://app.test/public/x\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /admin\r\nX-Original-URI: /public/x\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Host: public.test\r\nX-Forwarded-Uri: /admin\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test, public.test\r\nX-Forwarded-Uri: /admin\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Uri: /admin\r\n\r\n",
        "GET /_portcullis/forward-auth HTTP/1.1\r\nHost: g\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: app.test\r\nX-Forwarded-Uri: /admin\r\nX-Forwarded-Uri: /public/x\r\n\r\n",
    ]

    @Test("a second or conflicting source of the original request is refused 400, never decided", arguments: conflictingSources)
    func conflictingSource(_ request: String) throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, request)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        #expect(answer.contains("bad_forward_auth_request"))
        #expect(!answer.contains("X-Portcullis-User"))
        #expect(gateway.accessLog.last?.metadata["decision"] == "bad_request")
    }

    @Test("a forward-auth question over HTTP/1.0 without Host is refused 400")
    func noHost() throws {
        let gateway = Self.gateway()
        let answer = try Self.ask(gateway, "GET /_portcullis/auth HTTP/1.0\r\nX-Original-Method: GET\r\nX-Original-URI: /public/x\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 400") || answer.hasPrefix("HTTP/1.0 400"), "\(answer)")
    }
}
