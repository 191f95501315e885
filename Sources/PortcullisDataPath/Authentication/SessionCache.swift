import Foundation
import PortcullisCore
import Synchronization

/// Live sessions this instance has seen, so that most requests need no store read. An entry
/// is trusted for at most `sessions.max_staleness`; after that it is read again. Revocations
/// evict at once (and arrive by broadcast from other instances).
package final class SessionCache: CredentialInvalidation {
    package struct Entry: Sendable {
        /// What the session answers, decided when it was read from the store, in one
        /// immutable box: the table holds a reference per session (a dictionary keeps up to
        /// twice as many slots as entries), and a lookup copies a reference out of the lock.
        private var storage: Box
        package var session: CachedSession {
            get { storage.session }
            set { storage = Box(newValue) }
        }
        /// When the store was last read for it (monotonic).
        package var fetchedAt: ContinuousClock.Instant
        /// When activity was last written (last seen, IP), to write at most once a minute.
        package var activityWrittenAt: Date
        /// The policy version it was read at.
        package var version: UInt64
        /// When a change of client address was last reported.
        package var addressChangedAt: Date?
        /// The session's last activity and where it came from: the store's, then moved here
        /// when this instance writes a new one.
        package var lastSeenAt: Date
        package var lastIP: IPAddress
        /// Boxed too: read only when the address changes, and it is most of an entry's size.
        private var lastLocationStorage: LocationBox
        package var lastLocation: GeoLocation {
            get { lastLocationStorage.location }
            set { lastLocationStorage = LocationBox(newValue) }
        }

        package init(
            session: CachedSession, lastSeenAt: Date, lastIP: IPAddress, lastLocation: GeoLocation,
            fetchedAt: ContinuousClock.Instant, activityWrittenAt: Date, version: UInt64
        ) {
            self.storage = Box(session)
            self.lastSeenAt = lastSeenAt
            self.lastIP = lastIP
            self.lastLocationStorage = LocationBox(lastLocation)
            self.fetchedAt = fetchedAt
            self.activityWrittenAt = activityWrittenAt
            self.version = version
        }

        /// The entry for a session as the store gave it.
        package init(
            identity: SessionIdentity, hash: SessionIDHash, fetchedAt: ContinuousClock.Instant, activityWrittenAt: Date, version: UInt64
        ) {
            self.init(
                session: CachedSession(identity, hash: hash), lastSeenAt: identity.session.lastSeenAt, lastIP: identity.session.lastIP,
                lastLocation: identity.session.lastLocation, fetchedAt: fetchedAt, activityWrittenAt: activityWrittenAt, version: version
            )
        }
    }

    private final class Box: Sendable {
        let session: CachedSession
        init(_ session: CachedSession) { self.session = session }
    }

    private final class LocationBox: Sendable {
        let location: GeoLocation
        init(_ location: GeoLocation) { self.location = location }
    }

    private let entries = Mutex<[SessionIDHash: Entry]>([:])
    package let capacity: Int
    /// Moves on every policy change; entries read at an older version are read again.
    package let version: PolicyVersion
    /// Moves on every eviction, so that answers reused without asking the cache (a
    /// connection's last credential) are asked again after a sign-out or a revocation.
    private let evictions = Atomic<UInt64>(0)

    /// The policy version and the evictions so far together: moves when either does.
    package var generation: UInt64 {
        version.current &+ evictions.load(ordering: .acquiring)
    }

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

    /// Where the cache stands, taken before a session is read: the policy version and the
    /// evictions so far.
    package struct Mark: Sendable, Equatable {
        package var version: UInt64
        package var evictions: UInt64
    }

    package var mark: Mark {
        entries.withLock { _ in Mark(version: version.current, evictions: evictions.load(ordering: .acquiring)) }
    }

    /// Which sessions and users were evicted, and when (the eviction count then and the time),
    /// so that a read is judged against evictions of its own session only: a stream of
    /// sign-outs of other (or made-up) sessions must not keep every session out of the cache.
    /// Kept a minute (far beyond `store.request_deadline`'s 30 s at most, so beyond any read
    /// under way); past ``markCapacity`` at once, every read under way counts as overtaken
    /// (``markFloor``).
    private struct Marks {
        var sessions: [SessionIDHash: (evictions: UInt64, at: ContinuousClock.Instant)] = [:]
        var users: [String: (evictions: UInt64, at: ContinuousClock.Instant)] = [:]
        /// Reads marked before this count as overtaken, whatever they read.
        var floor: UInt64 = 0
    }

    private let marks = Mutex(Marks())
    static let markLifetime: Duration = .seconds(60)
    static let markCapacity = 65_536

    /// Whether the session `hash` (of `userID`, when known) was evicted since `mark`.
    private func evictedSince(_ mark: Mark, _ hash: SessionIDHash, userID: String?) -> Bool {
        marks.withLock { marks in
            if mark.evictions < marks.floor { return true }
            if let evicted = marks.sessions[hash], evicted.evictions > mark.evictions { return true }
            if let userID, let evicted = marks.users[userID], evicted.evictions > mark.evictions { return true }
            return false
        }
    }

    /// Records an eviction (called under the entries' lock, with the count after it).
    private func markEviction(_ count: UInt64, session: SessionIDHash? = nil, user: String? = nil) {
        let now = ContinuousClock.now
        marks.withLock { marks in
            if let session { marks.sessions[session] = (count, now) }
            if let user { marks.users[user] = (count, now) }
            guard marks.sessions.count + marks.users.count > 4_096 else { return }
            let oldest = now.advanced(by: .zero - Self.markLifetime)
            marks.sessions = marks.sessions.filter { $0.value.at > oldest }
            marks.users = marks.users.filter { $0.value.at > oldest }
            if marks.sessions.count + marks.users.count > Self.markCapacity {
                marks.sessions = [:]
                marks.users = [:]
                marks.floor = count
            }
        }
    }

    /// Keeps `entry` unless its session or user was evicted since `mark` (taken before the
    /// entry was read): a sign-out that lands while the read is under way must not be undone by
    /// the read's older answer. Answers whether it was kept. (A policy change needs no check
    /// here: the entry carries the version it was read at.)
    @discardableResult
    package func store(_ entry: Entry, for hash: SessionIDHash, ifUnchangedSince mark: Mark) -> Bool {
        entries.withLock { entries in
            guard !evictedSince(mark, hash, userID: entry.session.userID) else { return false }
            Self.put(entry, for: hash, in: &entries, capacity: capacity)
            return true
        }
    }

    /// Whether an answer read from `mark` on still holds: same policy version, and neither the
    /// session nor its user evicted since.
    package func isUnchanged(_ hash: SessionIDHash, userID: String?, since mark: Mark) -> Bool {
        version.current == mark.version && !evictedSince(mark, hash, userID: userID)
    }

    package func store(_ entry: Entry, for hash: SessionIDHash) {
        entries.withLock { entries in Self.put(entry, for: hash, in: &entries, capacity: capacity) }
    }

    private static func put(_ entry: Entry, for hash: SessionIDHash, in entries: inout [SessionIDHash: Entry], capacity: Int) {
        var entry = entry
        if entry.addressChangedAt == nil { entry.addressChangedAt = entries[hash]?.addressChangedAt }
        if entries.count >= capacity, entries[hash] == nil {
            // Full: forget the stalest tenth rather than grow.
            let victims = entries.sorted { $0.value.fetchedAt < $1.value.fetchedAt }.prefix(Swift.max(1, capacity / 10))
            for (key, _) in victims { entries.removeValue(forKey: key) }
        }
        entries[hash] = entry
    }

    /// Marks activity as written now; answers false when another request already did it within
    /// `interval`, so only one write goes out. Either way, also answers when the next write is
    /// due (`nil` when there is no entry).
    package func claimActivityWrite(_ hash: SessionIDHash, now: Date, interval: TimeInterval) -> (claimed: Bool, nextDue: Date?) {
        entries.withLock { entries in
            guard var entry = entries[hash] else { return (false, nil) }
            guard now.timeIntervalSince(entry.activityWrittenAt) >= interval else {
                return (false, entry.activityWrittenAt.addingTimeInterval(interval))
            }
            entry.activityWrittenAt = now
            entry.lastSeenAt = now
            entries[hash] = entry
            return (true, now.addingTimeInterval(interval))
        }
    }

    /// A request from another client address than the session's last one: records the new
    /// address in the entry (and the activity as written now) and answers where the session was
    /// before, so that one request reports the change, not every request from the new address.
    /// `nil` when the address is the same, when there is no entry, or when a change was claimed
    /// less than `interval` ago (a session bouncing between two addresses is reported at most
    /// that often; the activity write catches up later).
    package func claimAddressChange(
        _ hash: SessionIDHash, client: IPAddress, location: GeoLocation, now: Date, interval: TimeInterval
    ) -> (address: IPAddress, location: GeoLocation)? {
        entries.withLock { entries in
            guard var entry = entries[hash], entry.lastIP != client,
                  now.timeIntervalSince(entry.addressChangedAt ?? .distantPast) >= interval else { return nil }
            let previous = (entry.lastIP, entry.lastLocation)
            entry.lastIP = client
            entry.lastLocation = location
            entry.lastSeenAt = now
            entry.activityWrittenAt = now
            entry.addressChangedAt = now
            entries[hash] = entry
            return previous
        }
    }

    /// The count moves and the eviction is marked under the entries' lock, so that a
    /// conditional ``store(_:for:ifUnchangedSince:)`` sees either the entry gone and the
    /// eviction marked, or neither.
    package func evict(_ hash: SessionIDHash) {
        entries.withLock { entries in
            entries.removeValue(forKey: hash)
            markEviction(evictions.add(1, ordering: .releasing).newValue, session: hash)
        }
    }

    package func evict(userID: String) {
        entries.withLock { entries in
            entries = entries.filter { $0.value.session.userID != userID }
            markEviction(evictions.add(1, ordering: .releasing).newValue, user: userID)
        }
    }

    package func policyDidChange() {
        version.bump()
    }

    package var count: Int { entries.withLock { $0.count } }
}
