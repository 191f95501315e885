import Foundation
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisTokens
import Synchronization
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

    /// A browser's parallel requests with one cookie do not each take a ticket: they share one
    /// lookup (``LookupFlights``), which the server test
    /// `browserParallelRequestsOnAnotherInstance` checks end to end. Here: six lookups of one
    /// key started at once run one read, and all six get its answer.
    @Test("six lookups of one credential started at once: one read, one answer for all")
    func parallelLookupsShareOneRead() async throws {
        let flights = LookupFlights<Int>()
        let reads = Mutex(0)
        let release = AsyncStream<Void>.makeStream()
        let key = Data(repeating: 7, count: 32)
        var started = 0
        var tasks: [Task<Int, any Error>] = []
        for _ in 0..<6 {
            let (task, didStart) = flights.start(key) {
                reads.withLock { $0 += 1 }
                for await _ in release.stream { break }
                return 42
            }
            if didStart { started += 1 }
            tasks.append(task)
        }
        #expect(started == 1)
        #expect(flights.current(key) != nil)
        release.continuation.yield()
        for task in tasks { #expect(try await task.value == 42) }
        #expect(reads.withLock { $0 } == 1)
        #expect(flights.count == 0, "a finished lookup stays in the table")
    }
}
