import PortcullisCore
import Synchronization

/// The greenlists managed through the admin API and the tenant greenlist chosen there, as last
/// read from the store. The access policy is rebuilt from the configuration plus this whenever
/// either changes.
package final class StoredNetworkPolicy: StoredGreenlists {
    package struct Value: Hashable, Sendable {
        package var greenlists: [String: Greenlist]
        package var tenantGreenlist: String?

        package init(greenlists: [String: Greenlist] = [:], tenantGreenlist: String? = nil) {
            self.greenlists = greenlists
            self.tenantGreenlist = tenantGreenlist
        }
    }

    private let value = Mutex(Value())

    package init() {}

    package var current: Value { value.withLock { $0 } }

    package var storedGreenlists: [String: Greenlist] { current.greenlists }

    /// Reads the store; answers whether anything changed.
    @discardableResult
    package func reload(from store: any GreenlistSource) async throws -> Bool {
        let fresh = Value(greenlists: try await store.storedGreenlists(), tenantGreenlist: try await store.tenantGreenlist())
        return value.withLock { current in
            guard current != fresh else { return false }
            current = fresh
            return true
        }
    }
}
