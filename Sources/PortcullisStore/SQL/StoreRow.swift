import Foundation

/// One row of a result, its values by column name: what rows of either driver become, so
/// that records are read from rows once (``StoreRows``).
package struct StoreRow: Sendable {
    /// The result's column names, in order (one array shared by the result's rows). A row has
    /// a few dozen columns at most: finding one by comparing names is cheaper than hashing them
    /// into a dictionary for every result.
    let columns: [String]
    let values: [StoreValue]

    func contains(_ column: String) -> Bool {
        columns.contains(column)
    }

    /// The column's value as `T`; throws ``StoreRowError`` when the row has no such column or
    /// holds something else there.
    subscript<T: StoreColumnValue>(_ column: String) -> T {
        get throws {
            guard let index = columns.firstIndex(of: column) else { throw StoreRowError(column: column, problem: "no such column") }
            return try T(values[index], column: column)
        }
    }
}

/// A row that does not hold what the store expects: the operation fails, naming the column.
struct StoreRowError: Error, CustomStringConvertible {
    let column: String
    let problem: String

    var description: String { "column \(column): \(problem)" }
}

/// A Swift value a column can be read as.
protocol StoreColumnValue {
    init(_ value: StoreValue, column: String) throws
}

extension StoreColumnValue {
    static func mismatch(_ value: StoreValue, column: String, expected: String) -> StoreRowError {
        StoreRowError(column: column, problem: "expected \(expected), found \(value.kind)")
    }
}

extension String: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        guard case .text(let text) = value else { throw Self.mismatch(value, column: column, expected: "text") }
        self = text
    }
}

extension Int64: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        switch value {
        case .integer(let integer): self = integer
        case .boolean(let boolean): self = boolean ? 1 : 0
        default: throw Self.mismatch(value, column: column, expected: "an integer")
        }
    }
}

extension Int: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        let wide = try Int64(value, column: column)
        guard let narrow = Int(exactly: wide) else { throw Self.mismatch(value, column: column, expected: "an Int") }
        self = narrow
    }
}

extension Double: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        switch value {
        case .real(let real): self = real
        case .integer(let integer): self = Double(integer)
        default: throw Self.mismatch(value, column: column, expected: "a real")
        }
    }
}

extension Bool: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        switch value {
        case .boolean(let boolean): self = boolean
        // SQLite stores booleans as 0 and 1.
        case .integer(let integer): self = integer != 0
        default: throw Self.mismatch(value, column: column, expected: "a boolean")
        }
    }
}

extension Data: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        guard case .bytes(let bytes) = value else { throw Self.mismatch(value, column: column, expected: "bytes") }
        self = bytes
    }
}

extension Optional: StoreColumnValue where Wrapped: StoreColumnValue {
    init(_ value: StoreValue, column: String) throws {
        if case .null = value {
            self = nil
        } else {
            self = try Wrapped(value, column: column)
        }
    }
}
