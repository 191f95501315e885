import PortcullisCore

/// Runs one store operation: the store's own errors and conflicts pass as they are; anything
/// else (the database driver's) becomes a ``StoreError`` that names the operation, described by
/// `describe` (which must never include bound values).
func storeOperation<T: Sendable>(
    _ operation: String, describe: (any Error) -> String = { "\($0)" }, _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        throw error
    } catch let error as StoreConflict {
        throw error
    } catch {
        throw StoreError(operation: operation, reason: describe(error))
    }
}
