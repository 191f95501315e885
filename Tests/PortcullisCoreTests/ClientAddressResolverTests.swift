import PortcullisCore
import PortcullisTestSupport
import Testing

@Suite("Client address behind trusted proxies (SPEC §4)")
struct ClientAddressResolverTests {
    let resolver = ClientAddressResolver(trustedProxies: [.literal("10.0.0.0/8"), .literal("2001:db8:ffff::/48")])

    @Test("an untrusted peer's X-Forwarded-For is ignored")
    func spoofedHeaderIgnored() {
        let result = resolver.resolve(peer: .literal("203.0.113.7"), forwardedFor: ["198.51.100.1"])
        #expect(result == .address(.literal("203.0.113.7")))
    }

    @Test("a trusted peer: the rightmost untrusted hop is the client")
    func rightmostUntrusted() {
        let result = resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["1.1.1.1, 198.51.100.9, 10.0.0.5"])
        #expect(result == .address(.literal("198.51.100.9")))
    }

    @Test("a client cannot prepend a fake address to get past the proxy")
    func prependedSpoofIgnored() {
        // The client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the real peer.
        let result = resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["198.51.100.1, 203.0.113.66"])
        #expect(result == .address(.literal("203.0.113.66")))
    }

    @Test("several header fields are one list, in order")
    func severalFields() {
        let result = resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["203.0.113.1", "10.0.0.9"])
        #expect(result == .address(.literal("203.0.113.1")))
    }

    @Test("ports and brackets are understood")
    func portsAndBrackets() {
        #expect(resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["203.0.113.1:5555"]) == .address(.literal("203.0.113.1")))
        #expect(resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["[2001:db8::7]:443"]) == .address(.literal("2001:db8::7")))
        #expect(resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["2001:db8::7"]) == .address(.literal("2001:db8::7")))
    }

    @Test("all hops trusted: the leftmost is the client")
    func allTrusted() {
        #expect(resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["10.9.9.9, 10.0.0.3"]) == .address(.literal("10.9.9.9")))
    }

    @Test("a malformed hop from a trusted proxy is refused, not guessed", arguments: [
        "unknown", "198.51.100.1, garbage", "", ", 198.51.100.1, ", "1.2.3.4:port", "[2001:db8::1", "fe80::1%eth0",
    ])
    func malformed(_ header: String) {
        let result = resolver.resolve(peer: .literal("10.0.0.2"), forwardedFor: [header])
        if case .malformed = result { return }
        Issue.record("accepted \(header) as \(result)")
    }

    @Test("no trusted proxies: always the peer")
    func noTrustedProxies() {
        let plain = ClientAddressResolver(trustedProxies: [])
        #expect(plain.resolve(peer: .literal("10.0.0.2"), forwardedFor: ["1.2.3.4"]) == .address(.literal("10.0.0.2")))
        #expect(!plain.hasTrustedProxies)
    }
}
