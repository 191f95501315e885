import Foundation
import PortcullisCore

extension SQLStore: APITokenStore {
    package func insertAPIToken(_ token: APITokenRecord, secretHash: [UInt8], audit: AuditContext) async throws {
        try await lockedWrite("insert API token") { connection in
            try await connection.execute(
                """
                INSERT INTO api_tokens (id, owner_id, name, scope, display_prefix, secret_hash, created_at, created_by, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [token.id, token.ownerID, token.name, token.scope.rawValue, token.displayPrefix, Data(secretHash),
                 StoreCoding.seconds(token.createdAt), token.createdBy, token.expiresAt.map(StoreCoding.seconds)]
            )
            let owner = try await Self.email(connection, userID: token.ownerID)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .apiTokenCreated, target: owner, before: nil,
                after: .object([
                    "id": .string(token.id), "name": .string(token.name), "scope": .string(token.scope.rawValue),
                    "prefix": .string(token.displayPrefix),
                    "expires_at": token.expiresAt.map { .number($0.timeIntervalSince1970) } ?? .null,
                ])
            ))
        }
    }

    /// The user's email, for audit entries (their id when they are gone).
    static func email(_ connection: some StoreConnection, userID: String) async throws -> String {
        try await connection.scalar("SELECT email FROM users WHERE id = $1", [userID], as: String.self) ?? userID
    }

    package func apiTokens(ownerID: String?) async throws -> [APITokenRecord] {
        try await read("list API tokens") { connection in
            try await connection.all(
                "SELECT * FROM api_tokens WHERE (CAST($1 AS TEXT) IS NULL OR owner_id = $1) ORDER BY created_at DESC",
                [ownerID], StoreRows.token
            )
        }
    }

    package func apiToken(id: String) async throws -> APITokenRecord? {
        try await read("read API token") { connection in
            try await connection.first("SELECT * FROM api_tokens WHERE id = $1", [id], StoreRows.token)
        }
    }

    package func apiTokenIdentity(secretHash: [UInt8]) async throws -> APITokenIdentity? {
        let sources = countedSources
        return try await read("read API token") { connection in
            guard let token = try await connection.first("SELECT * FROM api_tokens WHERE secret_hash = $1", [Data(secretHash)], StoreRows.token),
                  let owner = try await Self.userIdentity(connection, id: token.ownerID, sources: sources)
            else { return nil }
            return APITokenIdentity(token: token, owner: owner)
        }
    }

    package func revokeAPIToken(id: String, audit: AuditContext) async throws -> Bool {
        try await lockedWrite("revoke API token") { connection in
            guard let token = try await connection.first(
                "SELECT * FROM api_tokens WHERE id = $1 AND revoked_at IS NULL", [id], StoreRows.token
            ) else { return false }
            try await connection.execute("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2", [StoreCoding.seconds(audit.at), id])
            let owner = try await Self.email(connection, userID: token.ownerID)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .apiTokenRevoked, target: owner,
                before: .object(["id": .string(id), "name": .string(token.name), "scope": .string(token.scope.rawValue)]), after: nil
            ))
            try await connection.announce(.policyChanged)
            return true
        }
    }

    /// Revokes every live token of the owner, answering how many.
    static func revokeAPITokens(_ connection: some StoreConnection, ownerID: String, at seconds: Double) async throws -> Int {
        try await connection.count(
            "UPDATE api_tokens SET revoked_at = $1 WHERE owner_id = $2 AND revoked_at IS NULL RETURNING 1", [seconds, ownerID]
        )
    }

    package func recordAPITokenUse(id: String, at: Date) async throws {
        try await write("record API token use") { connection in
            try await connection.execute("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", [StoreCoding.seconds(at), id])
        }
    }

    package func recordActAs(tokenID: String, targetEmail: String, ownerEmail: String, audit: AuditContext) async throws {
        try await lockedWrite("record act-as") { connection in
            try await connection.execute("UPDATE api_tokens SET act_as_count = act_as_count + 1 WHERE id = $1", [tokenID])
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .apiTokenActedAs, target: targetEmail, before: nil,
                after: .object(["token": .string(tokenID), "owner": .string(ownerEmail)])
            ))
        }
    }
}
