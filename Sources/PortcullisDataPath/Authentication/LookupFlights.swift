import Foundation
import Synchronization

/// Concurrent lookups of one credential share one store read: the first request that needs it
/// starts the lookup, and every request with the same credential that arrives while it runs
/// waits for its answer instead of reading again. A browser's six parallel requests after a
/// restart cost one read, and so does a signed-out cookie sent from a thousand addresses at
/// once (issue 21, review round 4). Keyed by the credential's hash; a lookup leaves the table
/// when it ends, so a later request reads afresh (or from the cache the lookup filled).
package final class LookupFlights<Value: Sendable>: Sendable {
    private let flights = Mutex<[Data: Task<Value, any Error>]>([:])

    package init() {}

    /// The lookup of `key` under way, if any.
    package func current(_ key: Data) -> Task<Value, any Error>? {
        flights.withLock { $0[key] }
    }

    /// Starts `lookup` as the lookup of `key`, unless one started meanwhile: answers the lookup
    /// to wait for and whether it is the one just started (`false`: the caller joins another,
    /// and gives back whatever it took to start its own).
    package func start(_ key: Data, _ lookup: @escaping @Sendable () async throws -> Value) -> (Task<Value, any Error>, started: Bool) {
        flights.withLock { flights in
            if let running = flights[key] { return (running, false) }
            // The task removes itself once done; it cannot run that before it is in the table,
            // as the removal takes the same lock.
            let task = Task { [self] in
                defer { _ = self.flights.withLock { $0.removeValue(forKey: key) } }
                return try await lookup()
            }
            flights[key] = task
            return (task, true)
        }
    }

    /// Lookups under way (for tests).
    package var count: Int { flights.withLock { $0.count } }
}
