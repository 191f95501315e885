import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: AuditStore {
    /// Appends inside the caller's transaction, which must hold the write lock.
    @discardableResult
    func appendAudit(_ connection: PostgresConnection, _ event: AuditEvent) async throws -> AuditEntry {
        let head: AuditChain.Head? = try await setting(connection, SettingKey.auditHead)
        let row = AuditChain.row(for: event, after: head)
        try await connection.query(
            """
            INSERT INTO audit_log (sequence, at, actor, actor_is_super_admin, action, target, body, previous_hash, hash)
            VALUES (\(row.sequence), \(row.at), \(row.actor), \(row.actorIsSuperAdmin), \(row.action), \(row.target), \(row.body),
                    \(row.previousHash), \(row.hash))
            """,
            logger: logger
        )
        try await setSetting(connection, SettingKey.auditHead, AuditChain.Head(sequence: row.sequence, hash: row.hash))
        guard let entry = AuditChain.entry(row) else {
            throw StoreError(operation: "append audit entry", reason: "the entry could not be encoded")
        }
        return entry
    }

    @discardableResult
    public func appendAudit(_ event: AuditEvent) async throws -> AuditEntry {
        try await write("append audit entry") { connection in
            try await lock(connection)
            return try await appendAudit(connection, event)
        }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await read("read audit log") { connection in
            let since = query.since.map(StoreCoding.seconds)
            let actor = query.actor?.lowercased()
            let action = query.action?.rawValue
            let target = query.target?.lowercased()
            let limit = max(0, min(query.limit, 10_000))
            return try await connection.all(
                """
                SELECT * FROM audit_log
                WHERE (\(since)::DOUBLE PRECISION IS NULL OR at >= \(since))
                  AND (\(actor)::TEXT IS NULL OR lower(actor) = \(actor))
                  AND (\(action)::TEXT IS NULL OR action = \(action))
                  AND (\(target)::TEXT IS NULL OR lower(target) = \(target))
                ORDER BY sequence DESC LIMIT \(limit)
                """,
                logger: logger
            ) { AuditChain.entry(try PostgresRows.auditRow($0)) }
        }
    }

    public func auditLog() async throws -> [AuditEntry] {
        try await read("read audit log") { connection in
            try await connection.all("SELECT * FROM audit_log ORDER BY sequence", logger: logger) { AuditChain.entry(try PostgresRows.auditRow($0)) }
        }
    }

    public func exportAuditLog() async throws -> [String] {
        try await read("export audit log") { connection in
            try await connection.all("SELECT body FROM audit_log ORDER BY sequence", logger: logger) { try $0.decode(String.self) }
        }
    }

    public func verifyAuditLog() async throws -> AuditVerification {
        try await read("verify audit log") { connection in
            // Physical order, not sequence order: a renumbered row must not hide.
            let rows = try await connection.all("SELECT * FROM audit_log ORDER BY ctid", logger: logger, PostgresRows.auditRow)
            let head: AuditChain.Head? = try await setting(connection, SettingKey.auditHead)
            return AuditChain.verify(rows.sorted { $0.sequence < $1.sequence }, head: head)
        }
    }

    public func latestAuditSequence() async throws -> Int64 {
        try await read("read audit head") { connection in
            try await connection.scalar("SELECT COALESCE(MAX(sequence), 0) FROM audit_log", as: Int64.self, logger: logger) ?? 0
        }
    }
}
