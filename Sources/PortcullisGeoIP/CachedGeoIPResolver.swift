import PortcullisCore
import Synchronization

/// Remembers recent answers per address: the same clients come back request after request,
/// and a lookup in a large database costs about a microsecond of cache misses. Sharded to keep
/// lock contention low; each shard forgets everything when it fills (simple and bounded).
public final class CachedGeoIPResolver: GeoIPResolver {
    private static let shardCount = 16
    private let base: any GeoIPResolver
    private final class Shard: Sendable {
        let entries = Mutex<[IPAddress: GeoLocation]>([:])
    }

    private let shards: [Shard]
    private let shardCapacity: Int

    public init(_ base: any GeoIPResolver, capacity: Int = 65_536) {
        self.base = base
        shardCapacity = max(1, capacity / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    public func locate(_ address: IPAddress) -> GeoLocation {
        let shard = shards[Int(truncatingIfNeeded: address.value ^ (address.value >> 64)) & (Self.shardCount - 1)]
        if let cached = shard.entries.withLock({ $0[address] }) { return cached }
        let location = base.locate(address)
        shard.entries.withLock { entries in
            if entries.count >= shardCapacity { entries.removeAll(keepingCapacity: true) }
            entries[address] = location
        }
        return location
    }

    /// Forgets every answer (after the database is replaced).
    public func clear() {
        for shard in shards { shard.entries.withLock { $0.removeAll() } }
    }
}
