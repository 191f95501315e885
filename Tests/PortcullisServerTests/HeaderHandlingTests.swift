import Foundation
import NIOHTTP1
import PortcullisCore
@testable import PortcullisServer
import Testing
@testable import PortcullisDataPath
@testable import PortcullisControlPlane
@testable import PortcullisDevelopment

@Suite("Header rules")
struct HeaderHandlingTests {
    @Test("identity headers in every case and _/- spelling", arguments: [
        "X-Portcullis-User", "x-portcullis-user", "X_PORTCULLIS_USER", "x_Portcullis-uSer", "X-Portcullis-",
        "X-Forwarded-User", "x_forwarded_email", "X-FORWARDED-GROUPS", "Remote-User", "remote_user", "REMOTE-USER",
        "X-Auth-Request-Access-Token", "x_pomerium_claim_email", "X-WEBAUTH-ROLE", "x-forwarded-client-cert", "CLIENT_CERT",
        "ssl_client_cert", "X-MS-CLIENT-PRINCIPAL-ID", "x_remote_extra_scopes", "Remote_Groups",
    ])
    func identity(_ name: String) {
        #expect(HeaderRules.disposition(ofRequestHeader: name) == .identity)
    }

    @Test("forwarding and hop-by-hop headers", arguments: [
        ("X-Forwarded-For", HeaderRules.Disposition.forwarding), ("x_forwarded_proto", .forwarding), ("Forwarded", .forwarding),
        ("X-Real-IP", .forwarding), ("Connection", .hopByHop), ("keep-alive", .hopByHop), ("Transfer-Encoding", .hopByHop),
        ("TE", .hopByHop), ("Upgrade", .hopByHop), ("Proxy-Authorization", .hopByHop), ("Accept", .forward),
        ("X-Request-Id", .forward), ("Cookie", .forward), ("Remote-Address", .forward), ("", .forward),
        // Families stripped whole: every X-Forwarded-* and X-Envoy-*.
        ("X-Forwarded-Anything", .forwarding), ("x_forwarded_uri", .forwarding), ("X-Envoy-Retry-On", .override),
        ("X-Original-Host", .override), ("x-middleware-subrequest", .override), ("Client-IP", .forwarding),
        // Credentials and headers a client sends for itself still travel: the gateway injects no
        // credential of its own upstream, so Kubernetes' Impersonate-* are judged by the client's.
        ("X-Auth-Token", .forward), ("X-Access-Token", .forward), ("Impersonate-User", .forward), ("CF-Access-Client-Id", .forward),
        ("Sec-Fetch-Site", .forward), ("X-Requested-With", .forward), ("Content-Type", .forward), ("Cache-Control", .forward),
        ("X-Forwarded", .forward), ("X-Envoy", .forward), ("Client-Certificate-Hint", .forward),
    ])
    func others(_ name: String, _ expected: HeaderRules.Disposition) {
        #expect(HeaderRules.disposition(ofRequestHeader: name) == expected)
    }

    @Test("Portcullis cookies are removed before the upstream")
    func cookies() {
        #expect(CookieHeader.removing(["__Host-portcullis"], from: "a=1; __Host-portcullis=secret; b=2") == "a=1; b=2")
        #expect(CookieHeader.removing(["__Host-portcullis"], from: "__Host-portcullis=secret") == nil)
        #expect(CookieHeader.removing(["__Host-portcullis"], from: "__Host-portcullis-other=1") == "__Host-portcullis-other=1")
        var headers = HTTPHeaders()
        headers.add(name: "Cookie", value: "x=1; __Host-portcullis=abc")
        #expect(CookieHeader.value(of: "__Host-portcullis", in: headers) == "abc")
        #expect(CookieHeader.value(of: "y", in: headers) == nil)
    }

    @Test("list tokens without Foundation")
    func tokens() {
        #expect(HeaderTokens.split(" keep-alive ,Upgrade,, x ") == ["keep-alive", "Upgrade", "x"])
        #expect(HeaderTokens.contains("gzip, Chunked", token: "chunked"))
        #expect(!HeaderTokens.contains("gzip", token: "chunked"))
    }

    @Test("JSON text is escaped for log lines, and HTML-safe in response bodies")
    func jsonText() throws {
        var line = ""
        LogText.appendEscaped("a\"b\\c\nd\u{1}<x>&", to: &line)
        #expect(line == #"a\"b\\c\nd\u0001<x>&"#)
        #expect(JSONText.escape("a\"b\\c\nd\u{1}<x>&") == #"a\"b\\c\nd\u0001\u003cx\u003e\u0026"#)
        #expect(JSONText.escape("plain ünïcode") == "plain ünïcode")
        // Whatever goes in comes back out of a JSON parser unchanged.
        let hostile = "</script><script>alert(1)</script>\u{0}\u{1f}\"\\\r\t"
        let decoded = try JSONDecoder().decode(String.self, from: Data(("\"" + JSONText.escape(hostile) + "\"").utf8))
        #expect(decoded == hostile)
    }
}
