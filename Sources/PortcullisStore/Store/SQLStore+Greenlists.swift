import Foundation
import PortcullisCore

extension SQLStore: GreenlistStore {
    package func storedGreenlists() async throws -> [String: Greenlist] {
        try await read("read greenlists") { connection in
            var lists: [String: Greenlist] = [:]
            for row in try await connection.rows("SELECT name, entries FROM greenlists", []) {
                let name: String = try row["name"]
                lists[name] = Greenlist(name: name, entries: StoreCoding.decode([Greenlist.Entry].self, try row["entries"]) ?? [])
            }
            return lists
        }
    }

    package func putGreenlist(_ list: Greenlist, audit: AuditContext) async throws {
        try await lockedWrite("write greenlist") { connection in
            let before = try await connection.scalar("SELECT entries FROM greenlists WHERE name = $1", [list.name], as: String.self)
            try await connection.execute(
                """
                INSERT INTO greenlists (name, entries, updated_at) VALUES ($1, $2, $3)
                ON CONFLICT (name) DO UPDATE SET entries = excluded.entries, updated_at = excluded.updated_at
                """,
                [list.name, StoreCoding.json(list.entries), StoreCoding.seconds(audit.at)]
            )
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .greenlistChanged, target: list.name,
                before: before.flatMap { StoreCoding.decode(JSONValue.self, $0) } ?? .null, after: StoreCoding.jsonValue(list.entries)
            ))
            try await connection.announce(.networkChanged)
        }
    }

    package func deleteGreenlist(named name: String, audit: AuditContext) async throws -> Bool {
        try await lockedWrite("delete greenlist") { connection in
            guard let before = try await connection.scalar("SELECT entries FROM greenlists WHERE name = $1", [name], as: String.self) else {
                return false
            }
            try await connection.execute("DELETE FROM greenlists WHERE name = $1", [name])
            let tenant: String? = try await Self.setting(connection, SettingKey.tenantGreenlist)
            if tenant == name {
                try await Self.deleteSetting(connection, SettingKey.tenantGreenlist)
            }
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .greenlistDeleted, target: name, before: StoreCoding.decode(JSONValue.self, before) ?? .null, after: nil
            ))
            try await connection.announce(.networkChanged)
            return true
        }
    }

    package func tenantGreenlist() async throws -> String? {
        try await read("read tenant greenlist") { connection in try await Self.setting(connection, SettingKey.tenantGreenlist) }
    }

    package func setTenantGreenlist(_ name: String?, audit: AuditContext) async throws {
        try await lockedWrite("write tenant greenlist") { connection in
            let before: String? = try await Self.setting(connection, SettingKey.tenantGreenlist)
            if let name {
                try await Self.setSetting(connection, SettingKey.tenantGreenlist, name)
            } else {
                try await Self.deleteSetting(connection, SettingKey.tenantGreenlist)
            }
            if before != name {
                try await Self.appendAudit(connection, AuditEvent(
                    audit, action: .tenantGreenlistChanged, target: "tenant_greenlist",
                    before: before.map(JSONValue.string) ?? .null, after: name.map(JSONValue.string) ?? .null
                ))
                try await connection.announce(.networkChanged)
            }
        }
    }
}
