import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: GreenlistStore {
    public func storedGreenlists() async throws -> [String: Greenlist] {
        try await read("read greenlists") { db in
            var lists: [String: Greenlist] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, entries FROM greenlists") {
                let name: String = row["name"]
                let entries = StoreCoding.decode([Greenlist.Entry].self, row["entries"]) ?? []
                lists[name] = Greenlist(name: name, entries: entries)
            }
            return lists
        }
    }

    public func putGreenlist(_ list: Greenlist, audit: AuditContext) async throws {
        try await write("write greenlist") { db in
            let before = try String.fetchOne(db, sql: "SELECT entries FROM greenlists WHERE name = ?", arguments: [list.name])
            try db.execute(
                sql: """
                    INSERT INTO greenlists (name, entries, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET entries = excluded.entries, updated_at = excluded.updated_at
                    """,
                arguments: [list.name, StoreCoding.json(list.entries), StoreCoding.seconds(audit.at)]
            )
            try Self.appendAudit(db, AuditEvent(
                audit, action: .greenlistChanged, target: list.name,
                before: before.flatMap { StoreCoding.decode(JSONValue.self, $0) } ?? .null,
                after: StoreCoding.jsonValue(list.entries)
            ))
        }
    }

    public func deleteGreenlist(named name: String, audit: AuditContext) async throws -> Bool {
        try await write("delete greenlist") { db in
            guard let before = try String.fetchOne(db, sql: "SELECT entries FROM greenlists WHERE name = ?", arguments: [name]) else {
                return false
            }
            try db.execute(sql: "DELETE FROM greenlists WHERE name = ?", arguments: [name])
            let tenant: String? = try Self.setting(db, SettingKey.tenantGreenlist)
            if tenant == name {
                try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [SettingKey.tenantGreenlist])
            }
            try Self.appendAudit(db, AuditEvent(
                audit, action: .greenlistDeleted, target: name,
                before: StoreCoding.decode(JSONValue.self, before) ?? .null, after: nil
            ))
            return true
        }
    }

    public func tenantGreenlist() async throws -> String? {
        try await read("read tenant greenlist") { db in try Self.setting(db, SettingKey.tenantGreenlist) }
    }

    public func setTenantGreenlist(_ name: String?, audit: AuditContext) async throws {
        try await write("write tenant greenlist") { db in
            let before: String? = try Self.setting(db, SettingKey.tenantGreenlist)
            if let name {
                try Self.setSetting(db, SettingKey.tenantGreenlist, name)
            } else {
                try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [SettingKey.tenantGreenlist])
            }
            if before != name {
                try Self.appendAudit(db, AuditEvent(
                    audit, action: .tenantGreenlistChanged, target: "tenant_greenlist",
                    before: before.map(JSONValue.string) ?? .null, after: name.map(JSONValue.string) ?? .null
                ))
            }
        }
    }
}
