import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: SessionStore {
    public func insertSession(_ session: SessionRecord) async throws {
        try await write("insert session") { db in
            try db.execute(
                sql: """
                    INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, absolute_expires_at, created_ip,
                        last_ip, created_location, last_location, user_agent, browser, os, device_type, auth_method,
                        idp_session_id, amr, acr, mfa)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(session.idHash.bytes), session.userID, StoreCoding.seconds(session.createdAt),
                    StoreCoding.seconds(session.lastSeenAt), StoreCoding.seconds(session.absoluteExpiresAt),
                    session.createdIP.description, session.lastIP.description,
                    StoreCoding.locationJSON(session.createdLocation), StoreCoding.locationJSON(session.lastLocation),
                    session.userAgent, session.device.browser, session.device.os, session.device.type.rawValue,
                    session.authMethod.rawValue, session.idpSessionID, session.amr.joined(separator: " "), session.acr,
                    session.mfa ? 1 : 0,
                ]
            )
            try db.execute(
                sql: "UPDATE users SET last_seen_at = ? WHERE id = ?",
                arguments: [StoreCoding.seconds(session.lastSeenAt), session.userID]
            )
        }
    }

    public func session(_ idHash: SessionIDHash) async throws -> SessionRecord? {
        try await read("read session") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id_hash = ?", arguments: [Data(idHash.bytes)])
                .flatMap(SQLiteRows.session)
        }
    }

    public func recordSessionActivity(_ idHash: SessionIDHash, at: Date, ip: IPAddress, location: GeoLocation) async throws {
        try await write("record session activity") { db in
            try db.execute(
                sql: "UPDATE sessions SET last_seen_at = ?, last_ip = ?, last_location = ? WHERE id_hash = ?",
                arguments: [StoreCoding.seconds(at), ip.description, StoreCoding.locationJSON(location), Data(idHash.bytes)]
            )
            try db.execute(
                sql: "UPDATE users SET last_seen_at = ? WHERE id = (SELECT user_id FROM sessions WHERE id_hash = ?)",
                arguments: [StoreCoding.seconds(at), Data(idHash.bytes)]
            )
        }
    }

    public func revokeSession(_ idHash: SessionIDHash, at: Date, by: String, reason: String) async throws -> Bool {
        try await write("revoke session") { db in
            try db.execute(
                sql: "UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE id_hash = ? AND revoked_at IS NULL",
                arguments: [StoreCoding.seconds(at), by, reason, Data(idHash.bytes)]
            )
            return db.changesCount > 0
        }
    }

    public func revokeSessions(userID: String, at: Date, by: String, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions of a user") { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL", arguments: [userID]
            )
            try db.execute(
                sql: "UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
                arguments: [StoreCoding.seconds(at), by, reason, userID]
            )
            return SQLiteRows.hashes(rows)
        }
    }

    public func revokeSessions(idpSessionID: String, userID: String?, at: Date, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions by IdP session") { db in
            var filter = "idp_session_id = ? AND revoked_at IS NULL"
            var arguments: StatementArguments = [idpSessionID]
            if let userID {
                filter += " AND user_id = ?"
                arguments += [userID]
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id_hash FROM sessions WHERE \(filter)", arguments: arguments)
            try db.execute(
                sql: "UPDATE sessions SET revoked_at = ?, revoked_by = 'idp', revoked_reason = ? WHERE \(filter)",
                arguments: [StoreCoding.seconds(at), reason] + arguments
            )
            return SQLiteRows.hashes(rows)
        }
    }

    public func activeSessions(userID: String, now: Date) async throws -> [SessionRecord] {
        try await read("list sessions") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND absolute_expires_at > ?
                    ORDER BY created_at DESC
                    """,
                arguments: [userID, StoreCoding.seconds(now)]
            ).compactMap(SQLiteRows.session)
        }
    }

    public func activeSessions(now: Date, limit: Int) async throws -> [SessionRecord] {
        try await read("list sessions") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > ?
                    ORDER BY created_at DESC LIMIT ?
                    """,
                arguments: [StoreCoding.seconds(now), limit]
            ).compactMap(SQLiteRows.session)
        }
    }

    public func countActiveSessions(now: Date, idleTimeout: Duration) async throws -> Int {
        try await read("count active sessions") { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > ? AND last_seen_at > ?",
                arguments: [StoreCoding.seconds(now), StoreCoding.seconds(now.addingTimeInterval(-idleTimeout.secondsValue))]
            ) ?? 0
        }
    }

    public func purgeSessions(endedBefore cutoff: Date) async throws -> Int {
        try await write("purge sessions") { db in
            try db.execute(
                sql: "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < ?) OR absolute_expires_at < ?",
                arguments: [StoreCoding.seconds(cutoff), StoreCoding.seconds(cutoff)]
            )
            return db.changesCount
        }
    }
}
