import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: GreenlistStore {
    public func storedGreenlists() async throws -> [String: Greenlist] {
        try await read("read greenlists") { connection in
            var lists: [String: Greenlist] = [:]
            for try await (name, entries) in try await connection.query("SELECT name, entries FROM greenlists", logger: logger).decode((String, String).self) {
                lists[name] = Greenlist(name: name, entries: StoreCoding.decode([Greenlist.Entry].self, entries) ?? [])
            }
            return lists
        }
    }

    public func putGreenlist(_ list: Greenlist, audit: AuditContext) async throws {
        try await write("write greenlist") { connection in
            try await lock(connection)
            let before = try await connection.scalar("SELECT entries FROM greenlists WHERE name = \(list.name)", as: String.self, logger: logger)
            try await connection.query(
                """
                INSERT INTO greenlists (name, entries, updated_at) VALUES (\(list.name), \(StoreCoding.json(list.entries)), \(StoreCoding.seconds(audit.at)))
                ON CONFLICT (name) DO UPDATE SET entries = excluded.entries, updated_at = excluded.updated_at
                """,
                logger: logger
            )
            try await appendAudit(connection, AuditEvent(
                audit, action: .greenlistChanged, target: list.name,
                before: before.flatMap { StoreCoding.decode(JSONValue.self, $0) } ?? .null, after: StoreCoding.jsonValue(list.entries)
            ))
            try await notify(.networkChanged, on: connection)
        }
    }

    public func deleteGreenlist(named name: String, audit: AuditContext) async throws -> Bool {
        try await write("delete greenlist") { connection in
            try await lock(connection)
            guard let before = try await connection.scalar("SELECT entries FROM greenlists WHERE name = \(name)", as: String.self, logger: logger) else {
                return false
            }
            try await connection.query("DELETE FROM greenlists WHERE name = \(name)", logger: logger)
            let tenant: String? = try await setting(connection, SettingKey.tenantGreenlist)
            if tenant == name {
                try await connection.query("DELETE FROM settings WHERE key = \(SettingKey.tenantGreenlist)", logger: logger)
            }
            try await appendAudit(connection, AuditEvent(
                audit, action: .greenlistDeleted, target: name, before: StoreCoding.decode(JSONValue.self, before) ?? .null, after: nil
            ))
            try await notify(.networkChanged, on: connection)
            return true
        }
    }

    public func tenantGreenlist() async throws -> String? {
        try await read("read tenant greenlist") { connection in try await setting(connection, SettingKey.tenantGreenlist) }
    }

    public func setTenantGreenlist(_ name: String?, audit: AuditContext) async throws {
        try await write("write tenant greenlist") { connection in
            try await lock(connection)
            let before: String? = try await setting(connection, SettingKey.tenantGreenlist)
            if let name {
                try await setSetting(connection, SettingKey.tenantGreenlist, name)
            } else {
                try await connection.query("DELETE FROM settings WHERE key = \(SettingKey.tenantGreenlist)", logger: logger)
            }
            if before != name {
                try await appendAudit(connection, AuditEvent(
                    audit, action: .tenantGreenlistChanged, target: "tenant_greenlist",
                    before: before.map(JSONValue.string) ?? .null, after: name.map(JSONValue.string) ?? .null
                ))
                try await notify(.networkChanged, on: connection)
            }
        }
    }
}
