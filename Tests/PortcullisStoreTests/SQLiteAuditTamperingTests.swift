import Foundation
import GRDB
import PortcullisCore
import PortcullisStore
import Testing

/// The audit log's chain against someone who edits the SQLite file directly.
@Suite("SQLite audit log tampering")
struct SQLiteAuditTamperingTests {
    enum Tampering: String, CaseIterable, Sendable {
        case editActor, editBody, editAfterValue, deleteMiddle, deleteLast, swapRows, insertForged, clearSuperAdminFlag
    }

    /// A store with five chained entries, and the path of its file.
    static func populated() async throws -> (SQLiteStore, String) {
        let path = SQLiteStoreTests.temporaryPath()
        let store = try SQLiteStore(path: path)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<5 {
            let context = AuditContext(actor: "admin\(index)@example.com", actorIsSuperAdmin: index == 0, sourceIP: "203.0.113.\(index)",
                                       at: t0.addingTimeInterval(Double(index)))
            try await store.appendAudit(AuditEvent(context, action: .userRolesChanged, target: "user\(index)@example.com",
                                                   before: .object(["primary": .string("member")]),
                                                   after: .object(["primary": .string("admin")])))
        }
        return (store, path)
    }

    /// Edits the file the way an intruder with the file would: a separate connection, the
    /// append-only triggers dropped first.
    static func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;")
            try db.execute(sql: sql)
        }
        try queue.close()
    }

    @Test("an untouched log verifies")
    func intact() async throws {
        let (store, _) = try await Self.populated()
        let result = try await store.verifyAuditLog()
        #expect(result.isIntact)
        #expect(result.entries == 5)
    }

    @Test("the append-only triggers refuse updates and deletes through SQL")
    func triggers() async throws {
        let (_, path) = try await Self.populated()
        let queue = try DatabaseQueue(path: path)
        #expect(throws: (any Error).self) {
            try queue.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'x'") }
        }
        #expect(throws: (any Error).self) {
            try queue.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 2") }
        }
        try queue.close()
    }

    @Test("verification finds the tampering", arguments: Tampering.allCases)
    func detects(_ tampering: Tampering) async throws {
        let (store, path) = try await Self.populated()
        switch tampering {
        case .editActor:
            try Self.tamper(path, "UPDATE audit_log SET actor = 'someone-else@example.com' WHERE sequence = 3")
        case .editBody:
            try Self.tamper(path, "UPDATE audit_log SET body = replace(body, 'admin2@example.com', 'nobody@example.com') WHERE sequence = 3")
        case .editAfterValue:
            try Self.tamper(path, "UPDATE audit_log SET body = replace(body, '\"after\":{\"primary\":\"admin\"}', '\"after\":{\"primary\":\"member\"}') WHERE sequence = 2")
        case .deleteMiddle:
            try Self.tamper(path, "DELETE FROM audit_log WHERE sequence = 3")
        case .deleteLast:
            try Self.tamper(path, "DELETE FROM audit_log WHERE sequence = 5")
        case .swapRows:
            try Self.tamper(path, """
                UPDATE audit_log SET sequence = -2 WHERE sequence = 2;
                UPDATE audit_log SET sequence = 2 WHERE sequence = 3;
                UPDATE audit_log SET sequence = 3 WHERE sequence = -2;
                """)
        case .insertForged:
            try Self.tamper(path, """
                INSERT INTO audit_log (sequence, at, actor, actor_is_super_admin, action, target, body, previous_hash, hash)
                SELECT 6, at + 1, actor, actor_is_super_admin, action, target, body, hash, hash FROM audit_log WHERE sequence = 5
                """)
        case .clearSuperAdminFlag:
            try Self.tamper(path, "UPDATE audit_log SET actor_is_super_admin = 0 WHERE sequence = 1")
        }
        let result = try await store.verifyAuditLog()
        #expect(!result.isIntact, "\(tampering) went unnoticed")
        #expect(result.problem != nil)
    }
}
