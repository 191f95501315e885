import Foundation

/// A value as the store binds it to a statement or reads it from a row, the same for both
/// databases. SQLite has no booleans (it stores 0 and 1) and no arrays (a list of strings is
/// bound as a JSON array); each connection maps these to its driver.
package enum StoreValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes(Data)
    case boolean(Bool)
    /// Only bound, for ``StoreDialect/Fragment/isAnyOf(column:parameter:)``.
    case texts([String])

    /// For error messages: the kind, never the value.
    var kind: String {
        switch self {
        case .null: "null"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .bytes: "bytes"
        case .boolean: "a boolean"
        case .texts: "a list"
        }
    }
}

/// A Swift value that can be bound to a statement's `$n`.
package protocol StoreArgument: Sendable {
    var storeValue: StoreValue { get }
}

extension String: StoreArgument {
    package var storeValue: StoreValue { .text(self) }
}

extension Int: StoreArgument {
    package var storeValue: StoreValue { .integer(Int64(self)) }
}

extension Int64: StoreArgument {
    package var storeValue: StoreValue { .integer(self) }
}

extension Double: StoreArgument {
    package var storeValue: StoreValue { .real(self) }
}

extension Bool: StoreArgument {
    package var storeValue: StoreValue { .boolean(self) }
}

extension Data: StoreArgument {
    package var storeValue: StoreValue { .bytes(self) }
}

extension Array: StoreArgument where Element == String {
    package var storeValue: StoreValue { .texts(self) }
}

extension Optional: StoreArgument where Wrapped: StoreArgument {
    package var storeValue: StoreValue { self?.storeValue ?? .null }
}
