import AsyncHTTPClient
import Foundation
import MetricsTestKit
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Synchronization
import Testing
import PortcullisDataPath

extension ServerTests {
@Suite("Proxy behaviour")
struct ProxyBehaviourTests {
    /// Every spelling of every identity header a client might try.
    static let spoofedIdentityHeaders: [String] = {
        let names = [
            "X-Portcullis-User", "X-Portcullis-Email", "X-Portcullis-Role", "X-Portcullis-Roles", "X-Portcullis-Assertion",
            "X-Portcullis-Anything", "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "Remote-User",
        ]
        var variants: [String] = []
        for name in names {
            variants.append(name)
            variants.append(name.lowercased())
            variants.append(name.uppercased())
            variants.append(name.replacingOccurrences(of: "-", with: "_"))
            variants.append(name.lowercased().replacingOccurrences(of: "-", with: "_"))
            variants.append(String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : Character($0.element.lowercased()) }))
        }
        return variants
    }()

    @Test("no spoofed identity header variant reaches the upstream (HTTP/1.1 and HTTP/2)")
    func identityHeadersStripped() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let headers = Self.spoofedIdentityHeaders.map { ($0, "admin@evil.example") }
        for http1 in [true, false] {
            let echo = try await gateway.echo(headers: headers, http1: http1)
            for name in echo.names {
                let normalized = name.lowercased().replacingOccurrences(of: "_", with: "-")
                #expect(!normalized.hasPrefix("x-portcullis-"), "\(name) reached the upstream")
                #expect(!["x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "remote-user"].contains(normalized), "\(name) reached the upstream")
            }
            #expect(!echo.headers.contains { $0[1] == "admin@evil.example" })
        }
    }

    @Test("the raw socket path strips them too, with odd spacing")
    func identityHeadersStrippedRaw() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nX_PORTCULLIS_USER: evil\r\nx-portcullis-role:super_admin\r\nREMOTE_USER:   evil\r\n\r\n")
        let response = await client.wait { $0.contains("bodySHA256") }
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(!response.lowercased().contains("evil"))
        #expect(!response.lowercased().contains("super_admin"))
        await client.close()
    }

    @Test("X-Forwarded-For from an untrusted peer is ignored; ours is set")
    func forwardedFor() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let echo = try await gateway.echo(headers: [("X-Forwarded-For", "198.51.100.66"), ("X-Real-IP", "198.51.100.66"), ("Forwarded", "for=198.51.100.66")])
        #expect(echo.values("x-forwarded-for") == ["127.0.0.1"])
        #expect(echo.values("x-real-ip") == ["127.0.0.1"])
        #expect(echo.values("forwarded").isEmpty)
        #expect(echo.values("x-forwarded-proto") == ["https"])
        #expect(echo.values("x-forwarded-host") == ["127.0.0.1:\(gateway.port)"])
        #expect(echo.values("host") == ["127.0.0.1:\(gateway.upstream.port)"])
    }

    @Test("a trusted proxy's chain is kept and the client found by walking it")
    func trustedProxyChain() async throws {
        let gateway = try await TestGateway.start(
            routes: """
              - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
            """,
            extra: """
            network:
              greenlists:
                office: [{ cidr: 198.51.100.0/24, label: office }]
              tenant_greenlist: office
            """,
            serverExtra: "  trusted_proxies: [127.0.0.0/8]"
        )
        defer { Task { await gateway.stop() } }
        // Behind the trusted proxy (loopback), the client is the rightmost untrusted hop.
        let echo = try await gateway.echo(headers: [("X-Forwarded-For", "203.0.113.9, 198.51.100.20")])
        #expect(echo.values("x-forwarded-for") == ["203.0.113.9, 198.51.100.20, 127.0.0.1"])
        #expect(echo.values("x-real-ip") == ["198.51.100.20"])
        // A spoofed first hop does not get an outsider past the greenlist.
        let (refused, body) = try await gateway.fetch("/echo", headers: [("X-Forwarded-For", "198.51.100.20, 8.8.8.8")])
        #expect(refused.status == .forbidden)
        #expect(String(buffer: body).contains("ip_not_greenlisted"))
        // A malformed chain from a trusted proxy is refused, not guessed.
        let (bad, badBody) = try await gateway.fetch("/echo", headers: [("X-Forwarded-For", "not-an-ip")])
        #expect(bad.status == .badRequest)
        #expect(String(buffer: badBody).contains("bad_forwarded_for"))
    }

    @Test("hop-by-hop headers are removed both ways")
    func hopByHop() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic abc\r\nUpgrade: h2c\r\n\r\n")
        let response = await client.wait { $0.contains("bodySHA256") }
        let body = response.components(separatedBy: "\r\n\r\n").last ?? ""
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(body.utf8))
        for name in ["connection", "keep-alive", "te", "proxy-authorization", "upgrade", "x-secret-hop"] {
            #expect(echo.values(name).isEmpty, "\(name) reached the upstream")
        }
        // The upstream's Connection and Keep-Alive stay on its side.
        let head = response.components(separatedBy: "\r\n\r\n").first?.lowercased() ?? ""
        #expect(!head.contains("keep-alive: timeout=30"))
        #expect(head.contains("x-upstream: test"))
        await client.close()
    }

    @Test("the upstream receives the normalised path, whatever the client wrote")
    func normalisedPath() async throws {
        let gateway = try await TestGateway.start(routes: """
              - { name: public, path: /public, upstream: "{UPSTREAM}", require: public }
              - { name: admin, path: /admin, upstream: "{UPSTREAM}", require: authenticated }
            """, extra: """
            identity:
              oidc: { issuer: "https://idp.example.com", client_id: x, client_secret_env: PATH }
            """)
        defer { Task { await gateway.stop() } }
        for attack in ["/public/../admin", "/public/%2e%2e/admin", "/public%2F..%2Fadmin", "/public/..;/admin", "/public\\..\\admin"] {
            let (response, body) = try await gateway.fetch(attack, http1: true)
            #expect(response.status == .unauthorized, "\(attack): \(response.status)")
            #expect(String(buffer: body).contains("login_required"))
        }
        let echo = try await gateway.echo("/public//a/./b/../c;x=1?q=%2F..", http1: true)
        #expect(echo.uri == "/public/a/c?q=%2F..")
        #expect(gateway.upstream.received.withLock { $0 }.allSatisfy { !$0.contains("admin") })
    }

    @Test("a path that differs from a route prefix only in letter case is governed by that route")
    func caseInsensitivePrefixes() async throws {
        // The stricter routes admit only an office network the test client is not on.
        let gateway = try await TestGateway.start(routes: """
              - { name: teammates, path: /admin/teammates, upstream: "{UPSTREAM}", require: public, greenlist: office }
              - { name: exact, path: /Exact, upstream: "{UPSTREAM}", require: public, greenlist: office, case_sensitive: true }
              - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
            """, extra: "network:\n  greenlists:\n    office: [{ cidr: 198.51.100.0/24, label: office }]")
        defer { Task { await gateway.stop() } }
        for path in ["/admin/teammates", "/ADMIN/teammates", "/Admin/TeamMates/list", "/%41DMIN/teammates"] {
            let (response, body) = try await gateway.fetch(path, headers: [("Accept", "application/json")])
            #expect(response.status == .forbidden, "\(path): \(String(buffer: body))")
        }
        #expect(gateway.upstream.received.withLock { $0 }.isEmpty)
        // A case-sensitive route matches its own spelling only.
        #expect(try await gateway.fetch("/Exact/x", headers: [("Accept", "application/json")]).0.status == .forbidden)
        #expect(try await gateway.fetch("/exact/x").0.status == .ok)
    }

    @Test("refusals answer JSON to API clients and HTML to browsers, with the reason code")
    func refusalLanguages() async throws {
        let gateway = try await TestGateway.start(routes: """
              - { name: app, path: /, upstream: "{UPSTREAM}", require: public }
              - { name: office, path: /office, upstream: "{UPSTREAM}", require: public, greenlist: office }
            """, extra: """
            network:
              greenlists:
                office: [{ cidr: 198.51.100.0/24, label: office }]
            """)
        defer { Task { await gateway.stop() } }
        let (api, apiBody) = try await gateway.fetch("/office", headers: [("Accept", "application/json")])
        #expect(api.status == .forbidden)
        #expect(api.headers.first(name: "content-type") == "application/json")
        let json = try JSONSerialization.jsonObject(with: Data(buffer: apiBody)) as? [String: String]
        #expect(json?["error"] == "forbidden")
        #expect(json?["reason"] == "ip_not_greenlisted")
        let (browser, page) = try await gateway.fetch("/office", headers: [("Accept", "text/html,application/xhtml+xml")])
        #expect(browser.status == .forbidden)
        #expect(browser.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
        #expect(String(buffer: page).contains("ip_not_greenlisted"))
        #expect(browser.headers.first(name: "content-security-policy")?.contains("default-src 'none'") == true)
    }

    @Test("malformed requests get 400 with a reason and the connection is closed")
    func malformed() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n")
        let response = await client.wait { $0.contains("malformed_request") }
        #expect(response.hasPrefix("HTTP/1.1 400"))
        #expect(await client.waitForClose(timeout: .seconds(5)))
    }

    @Test("oversized headers are refused with 431")
    func oversizedHeaders() async throws {
        let gateway = try await TestGateway.start(serverExtra: "  limits: { max_header_bytes: 8KiB }")
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n")
        let response = await client.wait { $0.contains("headers_too_large") }
        #expect(response.hasPrefix("HTTP/1.1 431"))
        #expect(await client.waitForClose(timeout: .seconds(5)))
    }

    @Test("pipelined requests are answered in order on one connection")
    func pipelining() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /echo?n=1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /slow?ms=100 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /echo?n=3 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = await client.wait { $0.components(separatedBy: "HTTP/1.1 200").count == 4 }
        let first = try #require(response.range(of: "/echo?n=1"))
        let second = try #require(response.range(of: "/slow?ms=100"))
        let third = try #require(response.range(of: "/echo?n=3"))
        #expect(first.lowerBound < second.lowerBound && second.lowerBound < third.lowerBound)
        await client.close()
    }

    @Test("HTTP/1.0 and Connection: close end the connection after the response")
    func connectionClose() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        for request in ["GET /echo HTTP/1.0\r\nHost: localhost\r\n\r\n", "GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"] {
            let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
            try await client.send(request)
            #expect(await client.waitForClose(timeout: .seconds(5)))
            #expect(client.text.contains("bodySHA256"))
            #expect(client.text.lowercased().contains("connection: close"))
        }
    }

    @Test("keep-alive connections to the upstream are reused")
    func upstreamReuse() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        for _ in 0..<20 { _ = try await gateway.echo(http1: true) }
        #expect(gateway.upstream.connections.load(ordering: .relaxed) <= 2)
    }

    @Test("every request leaves one access-log line and a metric, never the cookie or the query")
    func accessLog() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        for http1 in [false, true] {
            _ = try await gateway.fetch("/echo?token=secret-value", headers: [("Cookie", "session=cookie-value"), ("Authorization", "Bearer token-value")], http1: http1)
        }
        // The line is written right after the response is flushed.
        for _ in 0..<100 where gateway.logs.entries(message: "request").count < 2 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let lines = gateway.logs.entries(message: "request")
        #expect(lines.count == 2)
        #expect(Set(lines.compactMap { $0.metadata["http"] }) == ["1.1", "2"])
        let line = try #require(lines.first)
        #expect(line.metadata["route"] == "app")
        #expect(line.metadata["status"] == "200")
        #expect(line.metadata["decision"] == "allow")
        #expect(line.metadata["reason"] == "public_route")
        #expect(line.metadata["client"] == "127.0.0.1")
        #expect(line.metadata["path"] == "/echo")
        let flattened = line.metadata.values.joined(separator: " ")
        for secret in ["secret-value", "cookie-value", "token-value"] {
            #expect(!flattened.contains(secret))
        }
        let counter = try gateway.metrics.expectCounter("portcullis_requests_total", [("route", "app"), ("decision", "allow"), ("reason", "public_route")])
        #expect(counter.totalValue == 2)
    }
}
}
