import Foundation
import GRDB
import PortcullisCore

/// A SQLite connection as the store uses it: GRDB's `Database`, lent for one read or one
/// transaction. It is used only inside that GRDB closure, on GRDB's thread (``InlineTask``
/// runs the store's body there), which is what makes handing it to the body's task safe.
package struct SQLiteStoreConnection: StoreConnection, @unchecked Sendable {
    let database: Database

    package func rows(_ statement: StoreStatement, _ arguments: [any StoreArgument]) async throws -> [StoreRow] {
        // Prepared once per connection and kept: the same text is the same statement.
        let prepared = try database.cachedStatement(sql: statement.text(for: .sqlite))
        try prepared.setArguments(StatementArguments(arguments.map { Self.databaseValue($0.storeValue) }))
        let columns = prepared.columnNames
        var rows: [StoreRow] = []
        let cursor = try Row.fetchCursor(prepared)
        while let row = try cursor.next() {
            var values: [StoreValue] = []
            values.reserveCapacity(columns.count)
            for value in row.databaseValues { values.append(Self.storeValue(value)) }
            rows.append(StoreRow(columns: columns, values: values))
        }
        return rows
    }

    /// SQLite's write transaction already holds the whole database.
    package func lockForWriting() async throws {}

    /// One node: nobody to tell. (Other processes on the same file, such as the command line,
    /// are noticed through the audit head: every change is audited.)
    package func announce(_ change: StoreChange) async throws {}

    static func databaseValue(_ value: StoreValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let integer): integer.databaseValue
        case .real(let real): real.databaseValue
        case .text(let text): text.databaseValue
        case .bytes(let bytes): bytes.databaseValue
        case .boolean(let boolean): (boolean ? 1 : 0 as Int64).databaseValue
        // `json_each` reads the list (``StoreDialect/Fragment/isAnyOf(column:parameter:)``).
        case .texts(let texts): StoreCoding.json(texts).databaseValue
        }
    }

    static func storeValue(_ value: DatabaseValue) -> StoreValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .double(let real): .real(real)
        case .string(let text): .text(text)
        case .blob(let bytes): .bytes(bytes)
        }
    }
}
