import Foundation
import Logging
import PortcullisCore
import PostgresNIO

/// A PostgreSQL connection as the store uses it: a pooled connection lent for one read or one
/// transaction.
package struct PostgresStoreConnection: StoreConnection {
    let connection: PostgresConnection
    let logger: Logger

    package func rows(_ statement: StoreStatement, _ arguments: [any StoreArgument]) async throws -> [StoreRow] {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            try Self.bind(argument.storeValue, into: &bindings)
        }
        let query = PostgresQuery(unsafeSQL: statement.text(for: .postgres), binds: bindings)
        var columns: [String]?
        var rows: [StoreRow] = []
        for try await row in try await connection.query(query, logger: logger) {
            var names: [String] = []
            var values: [StoreValue] = []
            values.reserveCapacity(columns?.count ?? 16)
            for cell in row {
                if columns == nil { names.append(cell.columnName) }
                values.append(try Self.storeValue(cell))
            }
            if columns == nil { columns = names }
            rows.append(StoreRow(columns: columns ?? names, values: values))
        }
        return rows
    }

    /// A transaction-scoped advisory lock: held until commit or rollback, by one transaction
    /// of any instance at a time.
    package func lockForWriting() async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresBackend.writeLock))", logger: logger)
    }

    /// `NOTIFY`, which goes out when the transaction commits. The database adds its clock's
    /// time (`"at"`, seconds since 1970) so that receivers can tell how long the change took to
    /// reach them.
    package func announce(_ change: StoreChange) async throws {
        let payload = ChangeMessage(change).encodedWithoutClosingBrace
        try await connection.query(
            "SELECT pg_notify(\(PostgresBackend.channel), \(payload) || ',\"at\":' || extract(epoch FROM clock_timestamp())::text || '}')",
            logger: logger
        )
    }

    static func bind(_ value: StoreValue, into bindings: inout PostgresBindings) throws {
        switch value {
        case .null: bindings.appendNull()
        case .integer(let integer): bindings.append(integer)
        case .real(let real): bindings.append(real)
        case .text(let text): bindings.append(text)
        case .bytes(let bytes): try bindings.append(bytes)
        case .boolean(let boolean): bindings.append(boolean)
        case .texts(let texts): bindings.append(texts)
        }
    }

    static func storeValue(_ cell: PostgresCell) throws -> StoreValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .boolean(try cell.decode(Bool.self))
        case .bytea: return .bytes(try cell.decode(Data.self))
        default: return .text(try cell.decode(String.self))
        }
    }
}
