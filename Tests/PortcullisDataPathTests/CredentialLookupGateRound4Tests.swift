import Foundation
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisTokens
import Testing

/// Adversarial review of issue 21, round 4 (81e1825): tagged lookups are bounded per client
/// only (4 at once per IPv4 address or IPv6 /64), outside the overall bound.
@Suite("Credential lookup gate: tagged lookups (review round 4)")
struct CredentialLookupGateRound4Tests {
    /// One routed /48 (a free tunnel broker gives one) is 65,536 clients of its own: one
    /// signed-out tagged cookie, sent from 64 of its /64s at once, is admitted 256 times, each
    /// a store read on a pool of 16 connections.
    @Test("one tagged credential sent from many /64s of one /48 is not looked up without bound")
    func manySixtyFours() throws {
        let tags = CredentialTags(key: CredentialTags.newKey())
        let gate = CredentialLookupGate(tags: tags)
        let made = tags.make()
        let base = try IPAddress(parsing: "2001:db8:42::").value
        var admitted = 0
        for subnet in 0..<UInt128(64) {
            for host in 1...UInt128(4) {
                if case .lookup = gate.admit(IPAddress(ipv6: base | subnet << 64 | host), credential: made) { admitted += 1 }
            }
        }
        #expect(admitted <= 16, "one tagged credential: \(admitted) lookups at once")
    }

    /// A browser opens six connections (or many HTTP/2 streams) at once; after a restart, or on
    /// an instance that has not read the session yet, each request with the user's own live,
    /// tagged cookie needs a lookup. Before b45c6b7 they all passed ("a browser's parallel
    /// requests after a restart all pass"); now the fifth is refused `session_unverifiable`.
    @Test("one client's six parallel requests with its own tagged cookie are not refused")
    func browserParallelRequests() {
        let tags = CredentialTags(key: CredentialTags.newKey())
        let gate = CredentialLookupGate(tags: tags)
        let cookie = tags.make()
        let client = IPAddress(ipv4: 198, 51, 100, 7)
        var busy = 0
        for _ in 0..<6 {
            if case .busy = gate.admit(client, credential: cookie) { busy += 1 }
        }
        #expect(busy == 0, "\(busy) of 6 parallel requests with one live tagged cookie were refused as busy")
    }
}
