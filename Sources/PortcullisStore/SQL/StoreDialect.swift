/// Where SQLite and PostgreSQL speak differently. Statements are written once
/// (``StoreStatement``); the few places that differ name a ``Fragment`` that each dialect writes
/// its own way.
package enum StoreDialect: Sendable {
    case sqlite
    case postgres

    /// A piece of a statement that the two dialects write differently.
    package enum Fragment: Sendable {
        /// Locks the rows read until the transaction ends: `FOR UPDATE` on PostgreSQL; nothing on
        /// SQLite, whose write transaction already holds the whole database.
        case forUpdate
        /// `column = ANY($n)` (a text array) on PostgreSQL, `column IN (SELECT value FROM
        /// json_each(?n))` (a JSON array) on SQLite: the column is one of the strings bound as
        /// parameter `n` (a `[String]` argument).
        case isAnyOf(column: String, parameter: Int)

        // Column types and constants, for the schema.
        /// A 64-bit integer.
        case integer
        /// A double.
        case real
        /// Bytes.
        case bytes
        /// A boolean (an integer 0 or 1 on SQLite).
        case boolean
        case `true`
        case `false`
        /// An integer primary key the database numbers.
        case serialKey
    }

    func write(_ fragment: Fragment) -> String {
        switch (self, fragment) {
        case (.postgres, .forUpdate): "FOR UPDATE"
        case (.sqlite, .forUpdate): ""
        case (.postgres, .isAnyOf(let column, let parameter)): "\(column) = ANY($\(parameter))"
        case (.sqlite, .isAnyOf(let column, let parameter)): "\(column) IN (SELECT value FROM json_each(?\(parameter)))"
        case (.postgres, .integer): "BIGINT"
        case (.sqlite, .integer): "INTEGER"
        case (.postgres, .real): "DOUBLE PRECISION"
        case (.sqlite, .real): "REAL"
        case (.postgres, .bytes): "BYTEA"
        case (.sqlite, .bytes): "BLOB"
        case (.postgres, .boolean): "BOOLEAN"
        case (.sqlite, .boolean): "INTEGER"
        case (.postgres, .true): "TRUE"
        case (.sqlite, .true): "1"
        case (.postgres, .false): "FALSE"
        case (.sqlite, .false): "0"
        case (.postgres, .serialKey): "BIGSERIAL PRIMARY KEY"
        case (.sqlite, .serialKey): "INTEGER PRIMARY KEY"
        }
    }
}
