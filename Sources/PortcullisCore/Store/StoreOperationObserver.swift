/// Told how long each store operation took, for the store latency histogram (SPEC §9). The
/// stores call it once per operation, success or failure, with the operation's name
/// (`read session identity`, `revoke sessions of a user`: a fixed set in the store's code).
/// Must be cheap and never block: it runs on the caller's task after every store call.
public protocol StoreOperationObserver: Sendable {
    func storeOperation(_ operation: String, finishedAfter duration: Duration, failed: Bool)
}
