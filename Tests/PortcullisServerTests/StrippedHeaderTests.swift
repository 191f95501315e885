import Foundation
import PortcullisCore
import Testing

extension ServerTests {
/// The identity, override and forwarding headers added to the strip lists after comparing them
/// with oauth2-proxy's, Pomerium's and Envoy's (issue 21 item 15): none reaches the upstream,
/// in any letter case or with `_` for `-`, over HTTP/1.1 and HTTP/2. The echo upstream shows
/// what arrived. Before, every one of them travelled on.
@Suite("Headers other gateways set never come from clients")
struct StrippedHeaderTests {
    /// Each added name (or a member of an added family), with where it comes from.
    static let added: [String] = [
        // oauth2-proxy: X-Auth-Request-*, the access token, and what nginx copies from it.
        "X-Auth-Request-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Redirect", "X-Forwarded-Authorization",
        // Pomerium, Google IAP, Cloudflare Access, AWS ALB, Azure App Service, authentik, Vouch.
        "X-Pomerium-Jwt-Assertion", "X-Pomerium-Claim-Email", "X-Goog-Authenticated-User-Email", "X-Goog-Iap-Jwt-Assertion",
        "Cf-Access-Jwt-Assertion", "Cf-Access-Authenticated-User-Email", "X-Amzn-Oidc-Identity", "X-Amzn-Oidc-Data",
        "X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-TOKEN-AAD-ID-TOKEN", "X-authentik-username", "X-Vouch-User",
        "X-Endpoint-API-UserInfo", "X-Apigateway-Api-Userinfo",
        // Authelia, Grafana, Kubernetes' authenticating proxy, authentik's proxy outpost.
        "Remote-Groups", "Remote-Email", "Remote-Name", "X-WEBAUTH-EMAIL", "X-WEBAUTH-GROUPS", "X-Remote-Group", "X-Remote-Extra-Scopes",
        "X-Auth-User", "X-Auth-Username", "X-Auth-Email", "X-Auth-Groups",
        // Client certificates: Envoy's XFCC, RFC 9440, nginx, IIS, Traefik.
        "X-Forwarded-Client-Cert", "Client-Cert", "Client-Cert-Chain", "SSL-Client-Cert", "X-Client-Cert", "X-ARR-ClientCert",
        "X-SSL-Client-Cert", "X-SSL-Client-S-DN", "X-Forwarded-Tls-Client-Cert",
        // Another path, method or host, and Envoy's own headers.
        "X-Original-Host", "X-Script-Name", "X-Middleware-Subrequest", "X-Envoy-Original-Path", "X-Envoy-Internal",
        "X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Path",
        // Client address and scheme.
        "X-Forwarded-Server", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Forwarded-Protocol", "Client-IP", "X-Cluster-Client-IP",
        "X-Originating-IP", "Fastly-Client-IP", "Front-End-Https",
    ]

    static let marker = "spoofed-by-the-client"

    static func spellings(_ name: String) -> [String] {
        [name, name.lowercased(), name.uppercased(), name.replacingOccurrences(of: "-", with: "_")]
    }

    @Test("none of them reaches the upstream, in any spelling, over HTTP/1.1 and HTTP/2", arguments: [true, false])
    func stripped(http1: Bool) async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        for spelling in 0..<4 {
            let headers = Self.added.map { (Self.spellings($0)[spelling], Self.marker) }
            let echo = try await gateway.echo(headers: headers + [("X-Kept", "kept")], http1: http1)
            let arrived = echo.headers.filter { $0[1].contains(Self.marker) }.map { $0[0] }
            #expect(arrived.isEmpty, "reached the upstream: \(arrived)")
            #expect(echo.values("x-kept") == ["kept"], "an ordinary header is passed on")
        }
    }

    @Test("each is the gateway's to strip, by its family", arguments: added)
    func classified(_ name: String) {
        for spelling in Self.spellings(name) {
            #expect(HeaderRules.disposition(ofRequestHeader: spelling) != .forward, "\(spelling)")
        }
    }
}
}
