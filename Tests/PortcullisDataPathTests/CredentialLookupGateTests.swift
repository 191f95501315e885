import Foundation
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisTokens
import Testing

/// The bound on lookups of credentials the instance has never seen, and the memory of misses
/// (issue 21 item 5); over real sockets in CredentialFloodTests.
@Suite("Credential lookup gate")
struct CredentialLookupGateTests {
    static let a = IPAddress(ipv4: 198, 51, 100, 7)
    static let b = IPAddress(ipv4: 203, 0, 113, 9)

    /// An untagged credential's base64url part (made before tags).
    static let untagged = String(repeating: "A", count: CredentialTags.untaggedLength)

    static func ticket(_ admission: CredentialLookupGate.Admission) -> CredentialLookupGate.Ticket? {
        if case .lookup(let ticket) = admission { return ticket }
        return nil
    }

    static func isBusy(_ admission: CredentialLookupGate.Admission) -> Bool {
        if case .busy = admission { return true }
        return false
    }

    @Test("at most perClient lookups at once per address and total overall; released tickets make room")
    func bounds() throws {
        let gate = CredentialLookupGate(perClient: 2, total: 3)
        let first = try #require(Self.ticket(gate.admit(Self.a, credential: Self.untagged)))
        _ = try #require(Self.ticket(gate.admit(Self.a, credential: Self.untagged)))
        #expect(Self.isBusy(gate.admit(Self.a, credential: Self.untagged)), "a third lookup from one address")
        let other = try #require(Self.ticket(gate.admit(Self.b, credential: Self.untagged)))
        #expect(Self.isBusy(gate.admit(Self.b, credential: Self.untagged)), "past the total")
        #expect(gate.inFlight == 3)
        gate.release(first)
        #expect(Self.ticket(gate.admit(Self.a, credential: Self.untagged)) != nil)
        gate.release(other)
        #expect(gate.inFlight == 2)
    }

    @Test("the addresses of one IPv6 /64 share one client's bound; another /64 has its own")
    func ipv6PerSlash64() throws {
        let gate = CredentialLookupGate(perClient: 2, total: 8)
        let prefix = try IPAddress(parsing: "2001:db8:1:2::").value
        for host in [UInt128(1), 0xdead_beef] {
            _ = try #require(Self.ticket(gate.admit(IPAddress(ipv6: prefix | host), credential: Self.untagged)))
        }
        #expect(Self.isBusy(gate.admit(IPAddress(ipv6: prefix | 0xffff_ffff_ffff_ffff), credential: Self.untagged)),
                "a third address in the same /64")
        #expect(Self.ticket(gate.admit(try IPAddress(parsing: "2001:db8:1:3::1"), credential: Self.untagged)) != nil)
    }

    /// Review round 6: one count per client for both let a flood of made-up untagged cookies
    /// from a shared address (a NAT, a /64) take the tickets its users' own sessions and
    /// sign-outs need.
    @Test("untagged lookups from a client do not take its tagged tickets, nor the other way round")
    func taggedAndUntaggedApart() throws {
        let tags = CredentialTags(key: CredentialTags.newKey())
        let gate = CredentialLookupGate(tags: tags, perClient: 2, perClientTagged: 2, total: 8)
        for _ in 0..<2 { _ = try #require(Self.ticket(gate.admit(Self.a, credential: Self.untagged))) }
        #expect(Self.isBusy(gate.admit(Self.a, credential: Self.untagged)))
        for _ in 0..<2 { _ = try #require(Self.ticket(gate.admit(Self.a, credential: tags.make())), "a tagged lookup behind an untagged flood") }
        #expect(Self.isBusy(gate.admit(Self.a, credential: tags.make())))
    }

    @Test("sized to the pool: half for untagged lookups, the pool less two (at least two) for tagged ones")
    func sizedToThePool() {
        for (pool, untagged, tagged) in [(16, 8, 14), (8, 4, 6), (2, 1, 2), (1, 1, 2)] {
            let gate = CredentialLookupGate(tags: nil, poolSize: pool)
            #expect(gate.total == untagged && gate.totalTagged == tagged, "pool \(pool): \(gate.total), \(gate.totalTagged)")
        }
    }

    @Test("with a key: a forged tag is refused without a lookup; a right tag is admitted past the overall bound, within its own per-client bound")
    func tags() throws {
        let tags = CredentialTags(key: CredentialTags.newKey())
        let gate = CredentialLookupGate(tags: tags, perClient: 1, perClientTagged: 3, total: 1)
        _ = try #require(Self.ticket(gate.admit(Self.a, credential: Self.untagged)))
        #expect(Self.isBusy(gate.admit(Self.b, credential: Self.untagged)), "untagged: past the total")
        let made = tags.make()
        var held: [CredentialLookupGate.Ticket] = []
        for _ in 0..<3 {
            held.append(try #require(Self.ticket(gate.admit(Self.b, credential: made)), "a tagged credential was refused past the total"))
        }
        #expect(Self.isBusy(gate.admit(Self.b, credential: made)), "a fourth tagged lookup at once from one client (one signed-out cookie, sent many times)")
        #expect(Self.ticket(gate.admit(Self.a, credential: made)) != nil, "another client has its own tagged bound")
        #expect(gate.inFlight == 1, "tagged lookups do not count in the overall bound")
        held.forEach(gate.release)
        #expect(Self.ticket(gate.admit(Self.b, credential: made)) != nil)
        let other = CredentialTags(key: CredentialTags.newKey()).make()
        for forged in [other, String(made.dropLast()) + (made.hasSuffix("A") ? "B" : "A"), String(repeating: "A", count: CredentialTags.taggedLength),
                       String(made.dropLast()) + "="] {
            guard case .forged = gate.admit(Self.b, credential: forged) else {
                Issue.record("\(forged) was not refused as forged")
                continue
            }
        }
        #expect(gate.inFlight == 1)
    }

    @Test("a miss is remembered for its lifetime, then forgotten")
    func missesExpire() {
        let gate = CredentialLookupGate(missLifetime: .seconds(60))
        let key = Data(repeating: 7, count: 32)
        let now = ContinuousClock.now
        #expect(!gate.isKnownMiss(key, now: now))
        gate.rememberMiss(key, now: now)
        #expect(gate.isKnownMiss(key, now: now.advanced(by: .seconds(59))))
        #expect(!gate.isKnownMiss(key, now: now.advanced(by: .seconds(61))))
    }

    @Test("the misses table keeps at most its capacity, dropping the oldest")
    func missesAreBounded() {
        let gate = CredentialLookupGate(missCapacity: 100)
        let now = ContinuousClock.now
        let keys = (0..<1_000).map { index in Data(withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) } + Array(repeating: 0, count: 24)) }
        for key in keys { gate.rememberMiss(key, now: now) }
        #expect(keys.suffix(100).allSatisfy { gate.isKnownMiss($0, now: now) })
        #expect(keys.prefix(900).allSatisfy { !gate.isKnownMiss($0, now: now) })
    }
}
