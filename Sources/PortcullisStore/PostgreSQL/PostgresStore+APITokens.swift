import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: APITokenStore {
    public func insertAPIToken(_ token: APITokenRecord, secretHash: [UInt8], audit: AuditContext) async throws {
        try await write("insert API token") { connection in
            try await lock(connection)
            try await connection.query(
                """
                INSERT INTO api_tokens (id, owner_id, name, scope, display_prefix, secret_hash, created_at, created_by, expires_at)
                VALUES (\(token.id), \(token.ownerID), \(token.name), \(token.scope.rawValue), \(token.displayPrefix), \(Data(secretHash)),
                        \(StoreCoding.seconds(token.createdAt)), \(token.createdBy), \(token.expiresAt.map(StoreCoding.seconds)))
                """,
                logger: logger
            )
            let owner = try await connection.scalar("SELECT email FROM users WHERE id = \(token.ownerID)", as: String.self, logger: logger) ?? token.ownerID
            try await appendAudit(connection, AuditEvent(
                audit, action: .apiTokenCreated, target: owner, before: nil,
                after: .object([
                    "id": .string(token.id), "name": .string(token.name), "scope": .string(token.scope.rawValue),
                    "prefix": .string(token.displayPrefix),
                    "expires_at": token.expiresAt.map { .number($0.timeIntervalSince1970) } ?? .null,
                ])
            ))
        }
    }

    public func apiTokens(ownerID: String?) async throws -> [APITokenRecord] {
        try await read("list API tokens") { connection in
            try await connection.all(
                "SELECT * FROM api_tokens WHERE (\(ownerID)::TEXT IS NULL OR owner_id = \(ownerID)) ORDER BY created_at DESC",
                logger: logger, PostgresRows.token
            )
        }
    }

    public func apiToken(id: String) async throws -> APITokenRecord? {
        try await read("read API token") { connection in
            try await connection.first("SELECT * FROM api_tokens WHERE id = \(id)", logger: logger, PostgresRows.token)
        }
    }

    public func apiTokenIdentity(secretHash: [UInt8]) async throws -> APITokenIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read API token") { connection in
            guard let token = try await connection.first(
                "SELECT * FROM api_tokens WHERE secret_hash = \(Data(secretHash))", logger: logger, PostgresRows.token
            ), let owner = try await userIdentity(connection, id: token.ownerID, policy: policy) else { return nil }
            return APITokenIdentity(token: token, owner: owner)
        }
    }

    public func revokeAPIToken(id: String, audit: AuditContext) async throws -> Bool {
        try await write("revoke API token") { connection in
            try await lock(connection)
            guard let token = try await connection.first(
                "SELECT * FROM api_tokens WHERE id = \(id) AND revoked_at IS NULL", logger: logger, PostgresRows.token
            ) else { return false }
            try await connection.query("UPDATE api_tokens SET revoked_at = \(StoreCoding.seconds(audit.at)) WHERE id = \(id)", logger: logger)
            let owner = try await connection.scalar("SELECT email FROM users WHERE id = \(token.ownerID)", as: String.self, logger: logger) ?? token.ownerID
            try await appendAudit(connection, AuditEvent(
                audit, action: .apiTokenRevoked, target: owner,
                before: .object(["id": .string(id), "name": .string(token.name), "scope": .string(token.scope.rawValue)]), after: nil
            ))
            try await notify(.policyChanged, on: connection)
            return true
        }
    }

    public func recordAPITokenUse(id: String, at: Date) async throws {
        try await write("record API token use") { connection in
            _ = try await connection.query("UPDATE api_tokens SET last_used_at = \(StoreCoding.seconds(at)) WHERE id = \(id)", logger: logger)
        }
    }

    public func recordActAs(tokenID: String, targetEmail: String, ownerEmail: String, audit: AuditContext) async throws {
        try await write("record act-as") { connection in
            try await lock(connection)
            _ = try await connection.query("UPDATE api_tokens SET act_as_count = act_as_count + 1 WHERE id = \(tokenID)", logger: logger)
            try await appendAudit(connection, AuditEvent(
                audit, action: .apiTokenActedAs, target: targetEmail, before: nil,
                after: .object(["token": .string(tokenID), "owner": .string(ownerEmail)])
            ))
        }
    }
}
