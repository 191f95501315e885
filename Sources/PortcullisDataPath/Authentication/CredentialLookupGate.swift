import Foundation
import PortcullisCore
import Synchronization

/// Bounds the store reads that anyone can cause without being anyone (issue 21 item 5). A
/// cookie or API token this instance has never seen must be looked up, and random ones cost a
/// read each: a flood of them from one address must not take the store's connection pool from
/// the signed-in users, the admin API and sign-ins.
///
/// - A credential the store said does not exist is remembered as a miss (per process, for
///   ``missLifetime``, at most ``missCapacity`` of them): ids and secrets are random and made by
///   the store's writer before anyone holds them, so a miss never becomes a hit.
/// - Lookups of unknown credentials take a ticket: at most ``perClient`` at once per client
///   address and ``total`` at once overall, well under the pool's 16 connections; past either,
///   the request is refused at once (`session_unverifiable`: it could not be checked now)
///   rather than queued. Credentials the cache knows (an entry past `max_staleness`) never
///   wait for a ticket.
package final class CredentialLookupGate: Sendable {
    package let perClient: Int
    package let total: Int
    package let missLifetime: Duration
    package let missCapacity: Int

    private struct State {
        var inFlight: [IPAddress: Int] = [:]
        var total = 0
        /// Misses in the order they were learnt, with when each stops counting.
        var misses: [Data: ContinuousClock.Instant] = [:]
        var missOrder: [Data] = []
        var missOrderStart = 0
    }

    private let state = Mutex(State())

    package init(perClient: Int = 4, total: Int = 8, missLifetime: Duration = .seconds(60), missCapacity: Int = 10_000) {
        self.perClient = perClient
        self.total = total
        self.missLifetime = missLifetime
        self.missCapacity = missCapacity
    }

    /// A lookup for `client` may start; `release(_:)` it when it ends. `nil`: refuse now.
    package func admit(_ client: IPAddress) -> Ticket? {
        state.withLock { state -> Ticket? in
            let mine = state.inFlight[client, default: 0]
            guard mine < perClient, state.total < total else { return nil }
            state.inFlight[client] = mine + 1
            state.total += 1
            return Ticket(client: client)
        }
    }

    package func release(_ ticket: Ticket) {
        state.withLock { state in
            state.total -= 1
            let left = state.inFlight[ticket.client, default: 1] - 1
            state.inFlight[ticket.client] = left > 0 ? left : nil
        }
    }

    /// One admitted lookup.
    package struct Ticket: Sendable {
        let client: IPAddress
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

    /// Lookups in flight now (for tests and metrics).
    package var inFlight: Int { state.withLock { $0.total } }
}
