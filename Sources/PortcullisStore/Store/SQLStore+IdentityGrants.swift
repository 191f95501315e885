import Foundation
import PortcullisCore

extension SQLStore: IdentityGrantStore {
    package func saveRefreshToken(userID: String, sealed: [UInt8], at: Date) async throws {
        try await write("save refresh token") { connection in
            try await connection.execute(
                """
                INSERT INTO refresh_tokens (user_id, sealed, refreshed_at) VALUES ($1, $2, $3)
                ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, refreshed_at = excluded.refreshed_at
                """,
                [userID, Data(sealed), StoreCoding.seconds(at)]
            )
        }
    }

    package func refreshToken(userID: String) async throws -> StoredRefreshToken? {
        try await read("read refresh token") { connection in
            try await connection.first("SELECT * FROM refresh_tokens WHERE user_id = $1", [userID], StoreRows.refreshToken)
        }
    }

    package func refreshTokensDue(refreshedBefore: Date, now: Date, limit: Int) async throws -> [StoredRefreshToken] {
        try await read("read refresh tokens due") { connection in
            try await connection.all(
                """
                SELECT t.* FROM refresh_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.refreshed_at < $1 AND u.active = \(.true) AND EXISTS (
                    SELECT 1 FROM sessions s WHERE s.user_id = t.user_id AND s.revoked_at IS NULL AND s.absolute_expires_at > $2)
                ORDER BY t.refreshed_at LIMIT $3
                """,
                [StoreCoding.seconds(refreshedBefore), StoreCoding.seconds(now), max(0, limit)], StoreRows.refreshToken
            )
        }
    }

    package func deleteRefreshToken(userID: String) async throws {
        try await write("delete refresh token") { connection in
            try await connection.execute("DELETE FROM refresh_tokens WHERE user_id = $1", [userID])
        }
    }
}
