import PortcullisCore

/// Runs one store operation: the store's own errors and refusals pass as they are; anything
/// else (the database driver's) becomes a ``StoreError`` that names the operation, described by
/// `describe` (which must never include bound values).
func storeOperation<T: Sendable>(
    _ operation: String, describe: (any Error) -> String = { "\($0)" }, _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch {
        if isStoreOutcome(error) { throw error }
        throw StoreError(operation: operation, reason: describe(error))
    }
}

/// Errors that are answers, not failures: they reach the caller unchanged.
func isStoreOutcome(_ error: any Error) -> Bool {
    error is StoreError || error is StoreConflict || error is StoreVersionConflict || error is StoreUnknownReferences
        || error is LoginRefusal
}
