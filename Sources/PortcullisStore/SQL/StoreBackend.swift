import PortcullisCore

/// What a database supplies to the store (``SQLStore``): connections, reads and transactions.
/// Everything else (the SQL, the rules, the audit chain) is written once above it.
package protocol StoreBackend: Sendable {
    associatedtype Connection: StoreConnection

    /// Reads on one connection: SQLite reads one snapshot; PostgreSQL runs each statement on
    /// its own (autocommit), as a pooled connection does.
    func read<T: Sendable>(_ body: @escaping @Sendable (Connection) async throws -> T) async throws -> T

    /// One transaction: committed when `body` returns, rolled back when it throws, with the
    /// error `body` threw.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Connection) async throws -> T) async throws -> T

    /// The driver's error in words, never with the values bound to the statement.
    static func describe(_ error: any Error) -> String
}

/// One connection, inside a read or a transaction.
package protocol StoreConnection {
    /// Runs one statement with its arguments bound to `$1`, `$2`, …, and answers its rows (none
    /// for a statement without `RETURNING`).
    func rows(_ statement: StoreStatement, _ arguments: [any StoreArgument]) async throws -> [StoreRow]

    /// Takes the store's write lock until the transaction ends. Every audited write and every
    /// decision on the role rails takes it first, so that the audit chain grows one entry at a
    /// time and no two decisions see the same state. (PostgreSQL: a transaction-scoped advisory
    /// lock; SQLite: nothing, since its write transaction already holds the database.)
    func lockForWriting() async throws

    /// Announces a change to every instance once the transaction commits (PostgreSQL: `NOTIFY`;
    /// SQLite: nothing, a single node has no one to tell, and other processes on the file watch
    /// the audit head).
    func announce(_ change: StoreChange) async throws
}

extension StoreConnection {
    /// Runs a statement for its effect.
    func execute(_ statement: StoreStatement, _ arguments: [any StoreArgument] = []) async throws {
        _ = try await rows(statement, arguments)
    }

    /// How many rows a statement answered: with `RETURNING 1`, how many it changed.
    func count(_ statement: StoreStatement, _ arguments: [any StoreArgument] = []) async throws -> Int {
        try await rows(statement, arguments).count
    }

    /// The first row, if any.
    func first(_ statement: StoreStatement, _ arguments: [any StoreArgument] = []) async throws -> StoreRow? {
        try await rows(statement, arguments).first
    }

    /// The first row mapped, if any.
    func first<T>(_ statement: StoreStatement, _ arguments: [any StoreArgument] = [], _ transform: (StoreRow) throws -> T?) async throws -> T? {
        guard let row = try await first(statement, arguments) else { return nil }
        return try transform(row)
    }

    /// Every row mapped; rows mapped to `nil` are left out.
    func all<T>(_ statement: StoreStatement, _ arguments: [any StoreArgument] = [], _ transform: (StoreRow) throws -> T?) async throws -> [T] {
        try await rows(statement, arguments).compactMap(transform)
    }

    /// The first column of the first row, if any (`nil` too when it holds NULL).
    func scalar<T: StoreColumnValue>(_ statement: StoreStatement, _ arguments: [any StoreArgument] = [], as type: T.Type = T.self) async throws -> T? {
        guard let row = try await first(statement, arguments), let value = row.values.first else { return nil }
        return try T?(value, column: row.columns.first ?? "1")
    }

    /// Whether the statement answers any row.
    func exists(_ statement: StoreStatement, _ arguments: [any StoreArgument] = []) async throws -> Bool {
        try await first(statement, arguments) != nil
    }
}
