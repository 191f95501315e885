import Foundation
import PortcullisCore
@testable import PortcullisDataPath
import Testing

/// The bound on lookups of credentials the instance has never seen, and the memory of misses
/// (issue 21 item 5); over real sockets in CredentialFloodTests.
@Suite("Credential lookup gate")
struct CredentialLookupGateTests {
    static let a = IPAddress(ipv4: 198, 51, 100, 7)
    static let b = IPAddress(ipv4: 203, 0, 113, 9)

    @Test("at most perClient lookups at once per address and total overall; released tickets make room")
    func bounds() throws {
        let gate = CredentialLookupGate(perClient: 2, total: 3)
        let first = try #require(gate.admit(Self.a))
        _ = try #require(gate.admit(Self.a))
        #expect(gate.admit(Self.a) == nil, "a third lookup from one address")
        let other = try #require(gate.admit(Self.b))
        #expect(gate.admit(Self.b) == nil, "past the total")
        #expect(gate.inFlight == 3)
        gate.release(first)
        #expect(gate.admit(Self.a) != nil)
        gate.release(other)
        #expect(gate.inFlight == 2)
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
