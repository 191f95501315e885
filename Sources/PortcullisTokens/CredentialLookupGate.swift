import Foundation
import PortcullisCore
import Synchronization

/// Bounds the store reads that anyone can cause without being anyone (issue 21 item 5). A
/// cookie or API token this instance has never seen must be looked up, and random ones would
/// cost a read each: a flood of them must not take the store's connection pool from the
/// signed-in users, the admin API and sign-ins.
///
/// - Credentials carry a keyed tag (``CredentialTags``): one with a wrong tag is refused
///   without a read, and one with the right tag was made by a gateway, so it is looked up
///   outside the untagged credentials' bound, under its own: at most ``perClientTagged`` at
///   once per client and ``totalTagged`` overall. Concurrent requests with one credential share
///   one lookup (``LookupFlights``, in the authenticators): a signed-out cookie sent a thousand
///   times at once, from as many addresses, is one read.
/// - A credential the store said does not exist is remembered as a miss (per process, for
///   ``missLifetime``, at most ``missCapacity`` of them): ids and secrets are random and made by
///   the store's writer before anyone holds them, so a miss never becomes a hit.
/// - Credentials made before tags take a ticket: at most ``perClient`` lookups at once per
///   client (an IPv4 address, or an IPv6 /64, which one host usually holds whole) and
///   ``total`` at once overall: half the pool (``init(tags:poolSize:)``), so that a flood of
///   them leaves the other half to sign-ins, the admin API, writes and tagged lookups. Tagged
///   and untagged lookups are counted apart per client too. Past a bound, the
///   request is refused at once (`session_unverifiable`: it could not be checked now) rather
///   than queued. A flood of made-up untagged credentials can take those tickets, but never
///   a lookup of a tagged one. Credentials the cache knows (an entry past `max_staleness`)
///   never wait for a ticket.
package final class CredentialLookupGate: Sendable {
    package let perClient: Int
    /// Lookups of tagged credentials at once per client: a tag says a gateway made the
    /// credential, not that it still lives (a signed-out cookie keeps its tag), so they are
    /// bounded per client too, apart from untagged ones and outside ``total``.
    package let perClientTagged: Int
    /// Lookups of untagged credentials at once, overall.
    package let total: Int
    /// Lookups of tagged credentials at once, overall: distinct credentials only (requests with
    /// one share its lookup), so this binds only many signed-out cookies at once, or a restart
    /// of a busy instance, whose extra lookups are refused as not checkable now.
    package let totalTagged: Int
    package let missLifetime: Duration
    package let missCapacity: Int
    /// `nil`: no key (tests and tools), every credential of the right length is looked up
    /// under the bounds.
    package let tags: CredentialTags?

    private struct State {
        /// Untagged lookups in flight per client.
        var inFlight: [IPAddress: Int] = [:]
        /// Tagged lookups in flight per client, counted apart: a flood of made-up untagged
        /// cookies from a shared address (a NAT, a /64) must not take the tickets its users'
        /// own tagged sessions and sign-outs need.
        var inFlightTagged: [IPAddress: Int] = [:]
        var total = 0
        var totalTagged = 0
        /// Misses in the order they were learnt, with when each stops counting.
        var misses: [Data: ContinuousClock.Instant] = [:]
        var missOrder: [Data] = []
        var missOrderStart = 0
    }

    private let state = Mutex(State())

    /// Bounds for a store pool of `poolSize` connections: half of it (at least one) for
    /// untagged lookups, which anyone can cause, so that a flood of them leaves the other half
    /// to everyone else; the pool less two (at least two) for tagged ones, which only a
    /// credential a gateway made can cause, one lookup per distinct credential (requests with
    /// one share it): 8 and 14 of 16, 4 and 6 of 8, 1 and 2 of 2. Past the tagged bound, many
    /// distinct sessions new to this instance at once (after a restart) are refused as not
    /// checkable now rather than queued for the pool.
    package convenience init(tags: CredentialTags?, poolSize: Int) {
        self.init(tags: tags, total: max(1, poolSize / 2), totalTagged: max(2, poolSize - 2))
    }

    package init(
        tags: CredentialTags? = nil, perClient: Int = 4, perClientTagged: Int = 4, total: Int = 8, totalTagged: Int = 6,
        missLifetime: Duration = .seconds(60), missCapacity: Int = 10_000
    ) {
        self.tags = tags
        self.totalTagged = totalTagged
        self.perClientTagged = perClientTagged
        self.perClient = perClient
        self.total = total
        self.missLifetime = missLifetime
        self.missCapacity = missCapacity
    }

    /// Whether a lookup of `credential` (its base64url part, after any prefix) for `client`
    /// may start; `release(_:)` the ticket when the lookup ends.
    package func admit(_ client: IPAddress, credential: some StringProtocol) -> Admission {
        let tagged: Bool
        switch tags?.shape(of: credential) {
        case .forged: return .forged
        case .tagged: tagged = true
        case .untagged, nil: tagged = false
        }
        let key = Self.clientKey(client)
        return state.withLock { state -> Admission in
            if tagged {
                let mine = state.inFlightTagged[key, default: 0]
                guard mine < perClientTagged, state.totalTagged < totalTagged else { return .busy }
                state.totalTagged += 1
                state.inFlightTagged[key] = mine + 1
            } else {
                let mine = state.inFlight[key, default: 0]
                guard mine < perClient, state.total < total else { return .busy }
                state.total += 1
                state.inFlight[key] = mine + 1
            }
            return .lookup(Ticket(client: key, countsInTotal: !tagged))
        }
    }

    package enum Admission: Sendable {
        /// Look it up; release the ticket when done.
        case lookup(Ticket)
        /// Not a credential any gateway made: refuse it as unknown, without a read.
        case forged
        /// Too many lookups at once: refuse it as not checkable now.
        case busy
    }

    package func release(_ ticket: Ticket) {
        state.withLock { state in
            if ticket.countsInTotal {
                state.total -= 1
                let left = state.inFlight[ticket.client, default: 1] - 1
                state.inFlight[ticket.client] = left > 0 ? left : nil
            } else {
                state.totalTagged -= 1
                let left = state.inFlightTagged[ticket.client, default: 1] - 1
                state.inFlightTagged[ticket.client] = left > 0 ? left : nil
            }
        }
    }

    /// One admitted lookup.
    package struct Ticket: Sendable {
        let client: IPAddress
        let countsInTotal: Bool
    }

    /// Whom a lookup counts against: an IPv4 address, or the /64 of an IPv6 address (a host
    /// is usually given a whole /64 and can pick any address in it).
    static func clientKey(_ address: IPAddress) -> IPAddress {
        address.isIPv4 ? address : IPAddress(ipv6: address.value & ~((UInt128(1) << 64) - 1))
    }

    /// Whether the store said recently that `key` (a session id's or a token secret's hash)
    /// does not exist.
    package func isKnownMiss(_ key: Data, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            guard let until = state.misses[key] else { return false }
            if until > now { return true }
            state.misses[key] = nil
            return false
        }
    }

    /// Remembers that the store has no `key`; the oldest miss goes when the table is full.
    package func rememberMiss(_ key: Data, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            if state.misses.updateValue(now.advanced(by: missLifetime), forKey: key) == nil {
                state.missOrder.append(key)
            }
            while state.misses.count > missCapacity, state.missOrderStart < state.missOrder.count {
                state.misses[state.missOrder[state.missOrderStart]] = nil
                state.missOrderStart += 1
            }
            // The order list keeps keys already gone (expired or evicted); compact it now and
            // then so that it stays within a small multiple of the table.
            if state.missOrderStart > missCapacity || state.missOrder.count > 2 * missCapacity + 1_024 {
                state.missOrder = state.missOrder[state.missOrderStart...].filter { state.misses[$0] != nil }
                state.missOrderStart = 0
            }
        }
    }

    /// Lookups of untagged credentials in flight now, which the overall bound counts (for tests).
    package var inFlight: Int { state.withLock { $0.total } }
}
