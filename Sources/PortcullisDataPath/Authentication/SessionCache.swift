import Foundation
import PortcullisCore
import Synchronization

/// Live sessions this instance has seen, so that most requests need no store read. An entry
/// is trusted for at most `sessions.max_staleness`; after that it is read again. Revocations
/// evict at once (and arrive by broadcast from other instances).
package final class SessionCache: Sendable {
    package struct Entry: Sendable {
        package var identity: SessionIdentity
        /// When the store was last read for it (monotonic).
        package var fetchedAt: ContinuousClock.Instant
        /// When activity was last written (last seen, IP), to write at most once a minute.
        package var activityWrittenAt: Date
        /// The policy version it was read at.
        package var version: UInt64

        package init(identity: SessionIdentity, fetchedAt: ContinuousClock.Instant, activityWrittenAt: Date, version: UInt64) {
            self.identity = identity
            self.fetchedAt = fetchedAt
            self.activityWrittenAt = activityWrittenAt
            self.version = version
        }
    }

    private let entries = Mutex<[SessionIDHash: Entry]>([:])
    package let capacity: Int
    /// Moves on every policy change; entries read at an older version are read again.
    package let version: PolicyVersion

    package init(capacity: Int = 100_000, version: PolicyVersion = PolicyVersion()) {
        self.capacity = capacity
        self.version = version
    }

    package func entry(_ hash: SessionIDHash) -> Entry? {
        entries.withLock { $0[hash] }
    }

    /// The entry, when it was read at the current policy version and less than `maxAge` ago.
    package func freshEntry(_ hash: SessionIDHash, maxAge: Duration, now: ContinuousClock.Instant) -> Entry? {
        let version = version.current
        return entries.withLock { entries in
            guard let entry = entries[hash], entry.version == version, now - entry.fetchedAt < maxAge else { return nil }
            return entry
        }
    }

    package func store(_ entry: Entry, for hash: SessionIDHash) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[hash] == nil {
                // Full: forget the stalest tenth rather than grow.
                let victims = entries.sorted { $0.value.fetchedAt < $1.value.fetchedAt }.prefix(Swift.max(1, capacity / 10))
                for (key, _) in victims { entries.removeValue(forKey: key) }
            }
            entries[hash] = entry
        }
    }

    /// Marks activity as written now; answers false when another request already did it within
    /// `interval`, so only one write goes out.
    package func claimActivityWrite(_ hash: SessionIDHash, now: Date, interval: TimeInterval) -> Bool {
        entries.withLock { entries in
            guard var entry = entries[hash], now.timeIntervalSince(entry.activityWrittenAt) >= interval else { return false }
            entry.activityWrittenAt = now
            entry.identity.session.lastSeenAt = now
            entries[hash] = entry
            return true
        }
    }

    package func evict(_ hash: SessionIDHash) {
        _ = entries.withLock { $0.removeValue(forKey: hash) }
    }

    package func evict(userID: String) {
        entries.withLock { entries in
            entries = entries.filter { $0.value.identity.user.id != userID }
        }
    }

    package func evictAll() {
        entries.withLock { $0.removeAll() }
    }

    package var count: Int { entries.withLock { $0.count } }
}
