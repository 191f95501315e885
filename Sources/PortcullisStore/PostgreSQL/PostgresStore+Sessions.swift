import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: SessionStore {
    public func insertSession(_ session: SessionRecord) async throws {
        try await write("insert session") { connection in
            try await connection.query(
                """
                INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, absolute_expires_at, created_ip,
                    last_ip, created_location, last_location, user_agent, browser, os, device_type, auth_method,
                    idp_session_id, amr, acr, mfa)
                VALUES (\(Data(session.idHash.bytes)), \(session.userID), \(StoreCoding.seconds(session.createdAt)),
                    \(StoreCoding.seconds(session.lastSeenAt)), \(StoreCoding.seconds(session.absoluteExpiresAt)),
                    \(session.createdIP.description), \(session.lastIP.description),
                    \(StoreCoding.locationJSON(session.createdLocation)), \(StoreCoding.locationJSON(session.lastLocation)),
                    \(session.userAgent), \(session.device.browser), \(session.device.os), \(session.device.type.rawValue),
                    \(session.authMethod.rawValue), \(session.idpSessionID), \(session.amr.joined(separator: " ")), \(session.acr),
                    \(session.mfa))
                """,
                logger: logger
            )
            try await connection.query(
                "UPDATE users SET last_seen_at = \(StoreCoding.seconds(session.lastSeenAt)) WHERE id = \(session.userID)",
                logger: logger
            )
        }
    }

    public func session(_ idHash: SessionIDHash) async throws -> SessionRecord? {
        try await read("read session") { connection in
            try await connection.first("SELECT * FROM sessions WHERE id_hash = \(Data(idHash.bytes))", logger: logger, PostgresRows.session)
        }
    }

    public func recordSessionActivity(_ idHash: SessionIDHash, at: Date, ip: IPAddress, location: GeoLocation) async throws {
        try await write("record session activity") { connection in
            let hash = Data(idHash.bytes)
            try await connection.query(
                """
                UPDATE sessions SET last_seen_at = \(StoreCoding.seconds(at)), last_ip = \(ip.description),
                    last_location = \(StoreCoding.locationJSON(location)) WHERE id_hash = \(hash)
                """,
                logger: logger
            )
            try await connection.query(
                "UPDATE users SET last_seen_at = \(StoreCoding.seconds(at)) WHERE id = (SELECT user_id FROM sessions WHERE id_hash = \(hash))",
                logger: logger
            )
        }
    }

    public func revokeSession(_ idHash: SessionIDHash, at: Date, by: String, reason: String) async throws -> Bool {
        try await write("revoke session") { connection in
            let users = try await connection.all(
                """
                UPDATE sessions SET revoked_at = \(StoreCoding.seconds(at)), revoked_by = \(by), revoked_reason = \(reason)
                WHERE id_hash = \(Data(idHash.bytes)) AND revoked_at IS NULL RETURNING user_id
                """,
                logger: logger
            ) { try $0.decode(String.self) }
            if !users.isEmpty {
                try await notify(.sessionsRevoked(sessions: [idHash], users: []), on: connection)
            }
            return !users.isEmpty
        }
    }

    public func revokeSessions(userID: String, at: Date, by: String, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions of a user") { connection in
            let hashes = try await connection.all(
                """
                UPDATE sessions SET revoked_at = \(StoreCoding.seconds(at)), revoked_by = \(by), revoked_reason = \(reason)
                WHERE user_id = \(userID) AND revoked_at IS NULL RETURNING id_hash
                """,
                logger: logger
            ) { SessionIDHash(bytes: Array(try $0.decode(Data.self))) }
            try await notify(.sessionsRevoked(sessions: hashes, users: [userID]), on: connection)
            return hashes
        }
    }

    public func revokeSessions(idpSessionID: String, userID: String?, at: Date, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions by IdP session") { connection in
            let hashes = try await connection.all(
                """
                UPDATE sessions SET revoked_at = \(StoreCoding.seconds(at)), revoked_by = 'idp', revoked_reason = \(reason)
                WHERE idp_session_id = \(idpSessionID) AND revoked_at IS NULL
                    AND (\(userID)::TEXT IS NULL OR user_id = \(userID))
                RETURNING id_hash
                """,
                logger: logger
            ) { SessionIDHash(bytes: Array(try $0.decode(Data.self))) }
            if !hashes.isEmpty {
                try await notify(.sessionsRevoked(sessions: hashes, users: []), on: connection)
            }
            return hashes
        }
    }

    public func activeSessions(userID: String, now: Date) async throws -> [SessionRecord] {
        try await read("list sessions") { connection in
            try await connection.all(
                """
                SELECT * FROM sessions WHERE user_id = \(userID) AND revoked_at IS NULL
                    AND absolute_expires_at > \(StoreCoding.seconds(now)) ORDER BY created_at DESC
                """,
                logger: logger, PostgresRows.session
            )
        }
    }

    public func activeSessions(now: Date, limit: Int) async throws -> [SessionRecord] {
        try await read("list sessions") { connection in
            try await connection.all(
                """
                SELECT * FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > \(StoreCoding.seconds(now))
                ORDER BY created_at DESC LIMIT \(limit)
                """,
                logger: logger, PostgresRows.session
            )
        }
    }

    public func countActiveSessions(now: Date, idleTimeout: Duration) async throws -> Int {
        try await read("count active sessions") { connection in
            let idleSince = StoreCoding.seconds(now.addingTimeInterval(-idleTimeout.secondsValue))
            let rows = try await connection.query(
                """
                SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > \(StoreCoding.seconds(now))
                    AND last_seen_at > \(idleSince)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func purgeSessions(endedBefore cutoff: Date) async throws -> Int {
        try await write("purge sessions") { connection in
            let seconds = StoreCoding.seconds(cutoff)
            return try await connection.count(
                """
                DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < \(seconds)) OR absolute_expires_at < \(seconds)
                RETURNING 1
                """,
                logger: logger
            )
        }
    }
}
