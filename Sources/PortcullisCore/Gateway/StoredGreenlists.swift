/// The greenlists kept in the store (managed through the admin API), as the running gateway
/// last read them. The server wires the data path's `StoredNetworkPolicy` in.
package protocol StoredGreenlists: Sendable {
    /// The stored greenlists by name, as last read.
    var storedGreenlists: [String: Greenlist] { get }
    /// Reads the store again; answers whether anything changed.
    @discardableResult
    func reload(from store: any GreenlistSource) async throws -> Bool
}
