import Foundation
import PortcullisCore

extension SQLStore: AuditStore {
    /// Appends inside the caller's transaction, which holds the write lock: a change and its
    /// entry land together, and entries one at a time.
    @discardableResult
    static func appendAudit(_ connection: LockedConnection<some StoreConnection>, _ event: AuditEvent) async throws -> AuditEntry {
        let head: AuditChain.Head? = try await setting(connection, SettingKey.auditHead)
        let row = AuditChain.row(for: event, after: head)
        try await connection.execute(
            """
            INSERT INTO audit_log (sequence, at, actor, actor_is_super_admin, action, target, body, previous_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [row.sequence, row.at, row.actor, row.actorIsSuperAdmin, row.action, row.target, row.body, row.previousHash, row.hash]
        )
        try await setSetting(connection, SettingKey.auditHead, AuditChain.Head(sequence: row.sequence, hash: row.hash))
        guard let entry = AuditChain.entry(row) else {
            throw StoreError(operation: "append audit entry", reason: "the entry could not be encoded")
        }
        return entry
    }

    @discardableResult
    package func appendAudit(_ event: AuditEvent) async throws -> AuditEntry {
        try await lockedWrite("append audit entry") { connection in try await Self.appendAudit(connection, event) }
    }

    package func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await read("read audit log") { connection in
            try await connection.all(
                """
                SELECT * FROM audit_log
                WHERE (CAST($1 AS DOUBLE PRECISION) IS NULL OR at >= $1)
                  AND (CAST($2 AS TEXT) IS NULL OR lower(actor) = $2)
                  AND (CAST($3 AS TEXT) IS NULL OR action = $3)
                  AND (CAST($4 AS TEXT) IS NULL OR lower(target) = $4)
                ORDER BY sequence DESC LIMIT $5
                """,
                [
                    query.since.map(StoreCoding.seconds), query.actor?.lowercased(), query.action?.rawValue, query.target?.lowercased(),
                    max(0, min(query.limit, 10_000)),
                ],
                StoreRows.auditEntry
            )
        }
    }

    package func auditLog() async throws -> [AuditEntry] {
        try await read("read audit log") { connection in
            try await connection.all("SELECT * FROM audit_log ORDER BY sequence", [], StoreRows.auditEntry)
        }
    }

    package func exportAuditLog() async throws -> [String] {
        try await read("export audit log") { connection in
            try await connection.all("SELECT body FROM audit_log ORDER BY sequence") { row -> String in try row["body"] }
        }
    }

    package func verifyAuditLog() async throws -> AuditVerification {
        try await read("verify audit log") { connection in
            let rows = try await connection.all("SELECT * FROM audit_log ORDER BY sequence", [], StoreRows.auditRow)
            let head: AuditChain.Head? = try await Self.setting(connection, SettingKey.auditHead)
            return AuditChain.verify(rows, head: head)
        }
    }

    package func latestAuditSequence() async throws -> Int64 {
        try await read("read audit head") { connection in
            try await connection.scalar("SELECT COALESCE(MAX(sequence), 0) FROM audit_log", as: Int64.self) ?? 0
        }
    }
}
