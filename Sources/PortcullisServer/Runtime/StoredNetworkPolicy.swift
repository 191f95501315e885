import PortcullisCore
import Synchronization

/// The greenlists managed through the admin API and the tenant greenlist chosen there, as last
/// read from the store. The access policy is rebuilt from the configuration plus this whenever
/// either changes.
public final class StoredNetworkPolicy: Sendable {
    public struct Value: Hashable, Sendable {
        public var greenlists: [String: Greenlist]
        public var tenantGreenlist: String?

        public init(greenlists: [String: Greenlist] = [:], tenantGreenlist: String? = nil) {
            self.greenlists = greenlists
            self.tenantGreenlist = tenantGreenlist
        }
    }

    private let value = Mutex(Value())

    public init() {}

    public var current: Value { value.withLock { $0 } }

    /// Reads the store; answers whether anything changed.
    @discardableResult
    public func reload(from store: any GatewayStore) async throws -> Bool {
        let fresh = Value(greenlists: try await store.storedGreenlists(), tenantGreenlist: try await store.tenantGreenlist())
        return value.withLock { current in
            guard current != fresh else { return false }
            current = fresh
            return true
        }
    }
}
