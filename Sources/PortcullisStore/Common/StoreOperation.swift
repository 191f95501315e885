import PortcullisCore

/// Runs one store operation: the store's own errors and conflicts pass as they are; anything
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
    } catch let error as StoreError {
        throw error
    } catch let error as StoreConflict {
        // A refusal the store decided (last holder, lock-out): the operation itself worked.
        failed = false
        throw error
    } catch {
        throw StoreError(operation: operation, reason: describe(error))
    }
}
