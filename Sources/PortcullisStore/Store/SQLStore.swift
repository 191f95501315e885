import PortcullisCore
import Synchronization

/// The store, written once (SPEC §3, §7, §8): every read, write, rule and audit entry in SQL
/// that both databases speak, over a ``StoreBackend`` that supplies connections and
/// transactions. ``SQLiteStore`` (one node) and ``PostgresStore`` (several, with a change feed)
/// are this type over their backends.
///
/// Writes come in two kinds. ``write(_:_:)`` is one transaction. ``lockedWrite(_:_:)`` also
/// takes the store's write lock first, and only its connection can append to the audit log:
/// every audited write and every decision on the role rails is made one at a time, on every
/// database, so the hash chain grows by one entry at a time and two decisions never see the
/// same state.
package final class SQLStore<Backend: StoreBackend>: Sendable {
    let backend: Backend
    /// Told how long each operation took (the store latency metric).
    let observer: (any StoreOperationObserver)?
    /// `identity.groups.source`: which memberships count for effective roles.
    let membershipPolicy = Mutex<GroupSourcePolicy>(.both)

    init(backend: Backend, observer: (any StoreOperationObserver)?) {
        self.backend = backend
        self.observer = observer
    }

    /// Reads on one connection.
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Backend.Connection) async throws -> T) async throws -> T {
        try await storeOperation(operation, observer: observer, describe: Backend.describe) {
            try await backend.read(body)
        }
    }

    /// One transaction.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Backend.Connection) async throws -> T) async throws -> T {
        try await storeOperation(operation, observer: observer, describe: Backend.describe) {
            try await backend.transaction(body)
        }
    }

    /// One transaction under the store's write lock: the only way to append to the audit log.
    func lockedWrite<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (LockedConnection<Backend.Connection>) async throws -> T
    ) async throws -> T {
        try await write(operation) { connection in
            try await connection.lockForWriting()
            return try await body(LockedConnection(connection))
        }
    }

    /// The membership sources that count now, as two parameters (`source IN ($n, $n+1)`; the
    /// same source twice when only one counts).
    var countedSources: (String, String) {
        let counted = membershipPolicy.withLock { $0 }.counted.map(\.rawValue).sorted()
        return (counted.first ?? "", counted.last ?? "")
    }
}

/// A connection inside a transaction that holds the store's write lock (``SQLStore/lockedWrite(_:_:)``).
package struct LockedConnection<Base: StoreConnection>: StoreConnection {
    let base: Base

    fileprivate init(_ base: Base) {
        self.base = base
    }

    package func rows(_ statement: StoreStatement, _ arguments: [any StoreArgument]) async throws -> [StoreRow] {
        try await base.rows(statement, arguments)
    }

    package func lockForWriting() async throws {}

    package func announce(_ change: StoreChange) async throws {
        try await base.announce(change)
    }
}
