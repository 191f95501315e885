#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A change one instance made that the others must apply to their caches (SPEC §3, §8).
public enum StoreChange: Hashable, Sendable {
    /// Sessions revoked (drop them), or every session of these users.
    case sessionsRevoked(sessions: [SessionIDHash], users: [String])
    /// Sessions changed without being revoked (a step-up mark set or cleared): drop them, so
    /// that the next request reads them again.
    case sessionsChanged(sessions: [SessionIDHash])
    /// Roles, mappings, memberships, default permissions, flags or tokens changed: cached
    /// identities must be read again.
    case policyChanged
    /// Greenlists or the tenant greenlist changed: the access policy must be rebuilt.
    case networkChanged
    /// Changes may have been missed (the listening connection was lost and is back): drop
    /// everything cached and reload.
    case resynchronize
}

/// A change as the feed delivers it, with the moment it was committed when the store tells it
/// (for the revocation propagation metric).
public struct AnnouncedChange: Hashable, Sendable {
    public var change: StoreChange
    /// When the transaction that made the change committed, by the database's clock (taken as
    /// it announced the change, just before its commit): `nil` for changes the feed makes up
    /// itself, such as ``StoreChange/resynchronize`` after a reconnection.
    public var committedAt: Date?

    public init(_ change: StoreChange, committedAt: Date? = nil) {
        self.change = change
        self.committedAt = committedAt
    }
}

/// A store that tells every instance about changes as they commit (PostgreSQL LISTEN/NOTIFY).
public protocol StoreChangeFeed: Sendable {
    /// Changes committed by any instance (this one included), from now until the stream is
    /// dropped.
    func changes() -> AsyncStream<AnnouncedChange>
}
