import PortcullisCore
import Testing

@Suite("No open redirect after login")
struct ReturnPathTests {
    /// Payloads from the public CVE history of auth proxies (oauth2-proxy, Pomerium, …).
    @Test("hostile return targets land on /", arguments: [
        "/\\evil.com", "//evil.com", "///evil.com", "/%2F%2Fevil.com", "/%2f%2fevil.com", "/%5Cevil.com", "/%5cevil.com",
        "%09/evil.com", "\t/evil.com", "/\t/evil.com", "%0a/evil.com", "/%0a/evil.com", "\n//evil.com", "%0d/evil.com", "/%0d/evil.com",
        "https://evil.com", "http://evil.com/", "https://localhost.evil.com", "https://localhost:8443.evil.com/x",
        "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.com", "//localhost@evil.com",
        "/\\/evil.com", "/%09/evil.com", "/ /evil.com", "/..//evil.com", "/a/../..//evil.com", "/%2e%2e//evil.com", "", " ", "\\\\evil.com", "/%", "/%zz",
        "/" + String(repeating: "a", count: 3_000),
    ])
    func hostile(_ payload: String) {
        #expect(ReturnPath.sanitize(payload) == "/", "\(payload.debugDescription)")
    }

    @Test("same-origin paths are kept", arguments: [
        "/", "/admin/teammates", "/reports?x=1&y=2", "/a/b/c#section", "/search?q=%2Fetc", "/caf%C3%A9",
    ])
    func kept(_ path: String) {
        #expect(ReturnPath.sanitize(path) == path)
    }

    @Test("nothing given means /")
    func missing() {
        #expect(ReturnPath.sanitize(nil) == "/")
    }
}
