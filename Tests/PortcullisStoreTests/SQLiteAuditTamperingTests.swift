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

    /// Rows written by earlier builds (issue 28 changed the body): the time in seconds since
    /// 1970 and an empty `hash`, exactly these bytes.
    static let legacyRows: [(body: String, hash: String)] = [
        (#"{"action":"user.roles.changed","actor":"admin@example.com","actor_is_super_admin":true,"after":{"primary":"admin"},"at":1800000000.25,"before":{"primary":"member"},"hash":"","previous_hash":"0000000000000000000000000000000000000000000000000000000000000000","sequence":1,"source_ip":"203.0.113.1","target":"user@example.com"}"#, "316ab19139a038d5ebdbdcea1e7d422dc4edb90634efb9a8fde6855cb372b71e"),
        (#"{"action":"user.roles.changed","actor":"cli:root","actor_is_super_admin":false,"at":1800000060,"hash":"","previous_hash":"316ab19139a038d5ebdbdcea1e7d422dc4edb90634efb9a8fde6855cb372b71e","sequence":2,"target":"user@example.com"}"#, "767e681ddbf0701aee879adbae06abb653b0f89e1a7ea5fac6e6e647279359b9"),
    ]

    @Test("a log written by earlier builds (seconds, empty hash) still verifies and exports as hashed; new entries follow it in RFC 3339 with no hash")
    func legacyBodies() async throws {
        let path = SQLiteStoreTests.temporaryPath()
        let store = try SQLiteStore(path: path)
        for (index, row) in Self.legacyRows.enumerated() {
            let at = index == 0 ? 1_800_000_000.25 : 1_800_000_060
            let previous = index == 0 ? String(repeating: "0", count: 64) : Self.legacyRows[index - 1].hash
            let actor = index == 0 ? "'admin@example.com', 1" : "'cli:root', 0"
            try Self.tamper(path, """
                INSERT INTO audit_log (sequence, at, actor, actor_is_super_admin, action, target, body, previous_hash, hash)
                VALUES (\(index + 1), \(at), \(actor), 'user.roles.changed', 'user@example.com', '\(row.body)', '\(previous)', '\(row.hash)')
                """)
        }
        try Self.tamper(path, """
            INSERT INTO settings (key, value, version) VALUES ('audit_head', '{"sequence":2,"hash":"\(Self.legacyRows[1].hash)"}', 1)
            """)
        #expect(try await store.verifyAuditLog() == AuditVerification(entries: 2))
        let legacy = try await store.auditLog()
        #expect(legacy.map(\.at) == [Date(timeIntervalSince1970: 1_800_000_000.25), Date(timeIntervalSince1970: 1_800_000_060)])
        #expect(legacy.map(\.hash) == Self.legacyRows.map(\.hash))

        let context = AuditContext(actor: "cli:root", actorIsSuperAdmin: false, sourceIP: nil, at: Date(timeIntervalSince1970: 1_800_000_120.5))
        try await store.appendAudit(AuditEvent(context, action: .userRolesChanged, target: "user@example.com", before: nil, after: nil))
        #expect(try await store.verifyAuditLog() == AuditVerification(entries: 3))
        let lines = try await store.exportAuditLog()
        #expect(Array(lines.prefix(2)) == Self.legacyRows.map(\.body), "an old line must stay as it was hashed")
        #expect(lines.last?.contains(#""at":"2027-01-15T08:02:00.500Z""#) == true, "\(lines.last ?? "")")
        #expect(lines.last?.contains(#""hash""#) == false, "\(lines.last ?? "")")
        #expect(lines.last?.contains(#""previous_hash":"\#(Self.legacyRows[1].hash)""#) == true, "\(lines.last ?? "")")
        #expect(try await store.auditLog().last?.at == Date(timeIntervalSince1970: 1_800_000_120.5))
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
