import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: AuditStore {
    /// Appends inside the caller's transaction, so a change and its entry land together.
    @discardableResult
    static func appendAudit(_ db: Database, _ event: AuditEvent) throws -> AuditEntry {
        let head: AuditChain.Head? = try setting(db, SettingKey.auditHead)
        let row = AuditChain.row(for: event, after: head)
        try db.execute(
            sql: """
                INSERT INTO audit_log (sequence, at, actor, actor_is_super_admin, action, target, body, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [row.sequence, row.at, row.actor, row.actorIsSuperAdmin ? 1 : 0, row.action, row.target, row.body,
                        row.previousHash, row.hash]
        )
        try setSetting(db, SettingKey.auditHead, AuditChain.Head(sequence: row.sequence, hash: row.hash))
        guard let entry = AuditChain.entry(row) else {
            throw StoreError(operation: "append audit entry", reason: "the entry could not be encoded")
        }
        return entry
    }

    @discardableResult
    public func appendAudit(_ event: AuditEvent) async throws -> AuditEntry {
        try await write("append audit entry") { db in try Self.appendAudit(db, event) }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await read("read audit log") { db in
            var filters: [String] = []
            var arguments: StatementArguments = []
            if let since = query.since {
                filters.append("at >= ?")
                arguments += [StoreCoding.seconds(since)]
            }
            if let actor = query.actor {
                filters.append("lower(actor) = ?")
                arguments += [actor.lowercased()]
            }
            if let action = query.action {
                filters.append("action = ?")
                arguments += [action.rawValue]
            }
            if let target = query.target {
                filters.append("lower(target) = ?")
                arguments += [target.lowercased()]
            }
            let condition = filters.isEmpty ? "" : "WHERE " + filters.joined(separator: " AND ")
            arguments += [max(0, min(query.limit, 10_000))]
            return try Row.fetchAll(
                db, sql: "SELECT * FROM audit_log \(condition) ORDER BY sequence DESC LIMIT ?", arguments: arguments
            ).compactMap { AuditChain.entry(Self.auditRow($0)) }
        }
    }

    public func auditLog() async throws -> [AuditEntry] {
        try await read("read audit log") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY sequence").compactMap { AuditChain.entry(Self.auditRow($0)) }
        }
    }

    public func exportAuditLog() async throws -> [String] {
        try await read("export audit log") { db in try String.fetchAll(db, sql: "SELECT body FROM audit_log ORDER BY sequence") }
    }

    public func verifyAuditLog() async throws -> AuditVerification {
        try await read("verify audit log") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY rowid").map(Self.auditRow)
            let head: AuditChain.Head? = try Self.setting(db, SettingKey.auditHead)
            return AuditChain.verify(rows, head: head)
        }
    }

    public func latestAuditSequence() async throws -> Int64 {
        try await read("read audit head") { db in try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM audit_log") ?? 0 }
    }

    static func auditRow(_ row: Row) -> AuditChain.Row {
        AuditChain.Row(
            sequence: row["sequence"], at: row["at"], actor: row["actor"],
            actorIsSuperAdmin: (row["actor_is_super_admin"] as Int?) != 0, action: row["action"], target: row["target"],
            body: row["body"], previousHash: row["previous_hash"], hash: row["hash"]
        )
    }
}
