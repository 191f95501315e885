import PortcullisCore

/// Runs one store operation: the store's own errors and refusals pass as they are; anything
/// else (the database driver's) becomes a ``StoreError`` that names the operation, described by
/// `describe` (which must never include bound values). The observer, when there is one, is
/// told how long it took.
func storeOperation<T: Sendable>(
    _ operation: String, observer: (any StoreOperationObserver)? = nil, describe: (any Error) -> String = { "\($0)" },
    _ body: () async throws -> T
) async throws -> T {
    let started = ContinuousClock.now
    var failed = true
    defer { observer?.storeOperation(operation, finishedAfter: ContinuousClock.now - started, failed: failed) }
    do {
        let result = try await body()
        failed = false
        return result
    } catch {
        if isStoreOutcome(error) {
            // A refusal the store decided (last holder, lock-out, a version): the operation worked.
            failed = error is StoreError
            throw error
        }
        throw StoreError(operation: operation, reason: describe(error))
    }
}

/// Errors that are answers, not failures: they reach the caller unchanged.
func isStoreOutcome(_ error: any Error) -> Bool {
    error is StoreError || error is StoreConflict || error is StoreVersionConflict || error is StoreUnknownReferences
        || error is LoginRefusal || error is RoleChangeRefusal
}
