import Foundation
import PortcullisCore

extension SQLStore: SessionStore {
    package func insertSession(_ session: SessionRecord) async throws {
        try await write("insert session") { connection in
            try await connection.execute(
                """
                INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, absolute_expires_at, created_ip,
                    last_ip, created_location, last_location, user_agent, browser, os, device_type, auth_method,
                    idp_session_id, amr, acr, mfa, auth_time)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                """,
                [
                    Data(session.idHash.bytes), session.userID, StoreCoding.seconds(session.createdAt),
                    StoreCoding.seconds(session.lastSeenAt), StoreCoding.seconds(session.absoluteExpiresAt),
                    session.createdIP.description, session.lastIP.description,
                    StoreCoding.locationJSON(session.createdLocation), StoreCoding.locationJSON(session.lastLocation),
                    session.userAgent, session.device.browser, session.device.os, session.device.type.rawValue,
                    session.authMethod.rawValue, session.idpSessionID, session.amr.joined(separator: " "), session.acr,
                    session.mfa, session.authenticatedAt.map(StoreCoding.seconds),
                ]
            )
            try await connection.execute(
                "UPDATE users SET last_seen_at = $1 WHERE id = $2", [StoreCoding.seconds(session.lastSeenAt), session.userID]
            )
        }
    }

    package func session(_ idHash: SessionIDHash) async throws -> SessionRecord? {
        try await read("read session") { connection in
            try await connection.first("SELECT * FROM sessions WHERE id_hash = $1", [Data(idHash.bytes)], StoreRows.session)
        }
    }

    package func recordSessionActivity(_ idHash: SessionIDHash, at: Date, ip: IPAddress, location: GeoLocation) async throws {
        try await write("record session activity") { connection in
            let hash = Data(idHash.bytes)
            try await connection.execute(
                "UPDATE sessions SET last_seen_at = $1, last_ip = $2, last_location = $3 WHERE id_hash = $4",
                [StoreCoding.seconds(at), ip.description, StoreCoding.locationJSON(location), hash]
            )
            try await connection.execute(
                "UPDATE users SET last_seen_at = $1 WHERE id = (SELECT user_id FROM sessions WHERE id_hash = $2)",
                [StoreCoding.seconds(at), hash]
            )
        }
    }

    package func revokeSession(_ idHash: SessionIDHash, at: Date, by: String, reason: String) async throws -> Bool {
        try await write("revoke session") { connection in
            let revoked = try await connection.count(
                """
                UPDATE sessions SET revoked_at = $1, revoked_by = $2, revoked_reason = $3
                WHERE id_hash = $4 AND revoked_at IS NULL RETURNING 1
                """,
                [StoreCoding.seconds(at), by, reason, Data(idHash.bytes)]
            ) > 0
            if revoked {
                try await connection.announce(.sessionsRevoked(sessions: [idHash], users: []))
            }
            return revoked
        }
    }

    package func revokeSessions(userID: String, at: Date, by: String, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions of a user") { connection in
            let hashes = try await Self.revokeSessions(connection, userID: userID, at: at, by: by, reason: reason)
            try await connection.announce(.sessionsRevoked(sessions: hashes, users: [userID]))
            return hashes
        }
    }

    /// Revokes the user's live sessions, answering their hashes.
    static func revokeSessions(
        _ connection: some StoreConnection, userID: String, at: Date, by: String, reason: String
    ) async throws -> [SessionIDHash] {
        try await connection.all(
            """
            UPDATE sessions SET revoked_at = $1, revoked_by = $2, revoked_reason = $3
            WHERE user_id = $4 AND revoked_at IS NULL RETURNING id_hash
            """,
            [StoreCoding.seconds(at), by, reason, userID]
        ) { try StoreRows.hash($0) }
    }

    package func revokeSessions(idpSessionID: String, userID: String?, at: Date, reason: String) async throws -> [SessionIDHash] {
        try await write("revoke sessions by IdP session") { connection in
            let hashes = try await connection.all(
                """
                UPDATE sessions SET revoked_at = $1, revoked_by = 'idp', revoked_reason = $2
                WHERE idp_session_id = $3 AND revoked_at IS NULL AND (CAST($4 AS TEXT) IS NULL OR user_id = $4)
                RETURNING id_hash
                """,
                [StoreCoding.seconds(at), reason, idpSessionID, userID]
            ) { try StoreRows.hash($0) }
            if !hashes.isEmpty {
                try await connection.announce(.sessionsRevoked(sessions: hashes, users: []))
            }
            return hashes
        }
    }

    package func activeSessions(userID: String, now: Date) async throws -> [SessionRecord] {
        try await read("list sessions") { connection in
            try await connection.all(
                """
                SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2
                ORDER BY created_at DESC
                """,
                [userID, StoreCoding.seconds(now)], StoreRows.session
            )
        }
    }

    package func activeSessions(now: Date, limit: Int) async throws -> [SessionRecord] {
        try await read("list sessions") { connection in
            try await connection.all(
                """
                SELECT * FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > $1
                ORDER BY created_at DESC LIMIT $2
                """,
                [StoreCoding.seconds(now), limit], StoreRows.session
            )
        }
    }

    package func countActiveSessions(now: Date, idleTimeout: Duration) async throws -> Int {
        try await read("count active sessions") { connection in
            try await connection.scalar(
                "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > $1 AND last_seen_at > $2",
                [StoreCoding.seconds(now), StoreCoding.seconds(now.addingTimeInterval(-idleTimeout.secondsValue))], as: Int.self
            ) ?? 0
        }
    }

    package func purgeSessions(endedBefore cutoff: Date) async throws -> Int {
        try await write("purge sessions") { connection in
            let seconds = StoreCoding.seconds(cutoff)
            return try await connection.count(
                "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < $1) OR absolute_expires_at < $1 RETURNING 1",
                [seconds]
            )
        }
    }
}
