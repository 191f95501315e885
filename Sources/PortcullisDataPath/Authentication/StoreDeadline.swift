/// Bounds a store read on the request path: a store that hangs (a database gone away, a
/// connection being re-established) must not hold requests for longer than this; the caller
/// then fails closed with a reason.
enum StoreDeadline {
    static let requestPath: Duration = .seconds(2)

    struct Exceeded: Error, CustomStringConvertible {
        var description: String { "the store did not answer within \(StoreDeadline.requestPath)" }
    }

    static func run<T: Sendable>(
        within duration: Duration = requestPath, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: duration)
                throw Exceeded()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw Exceeded() }
            return first
        }
    }
}
