import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: APITokenStore {
    public func insertAPIToken(_ token: APITokenRecord, secretHash: [UInt8], audit: AuditContext) async throws {
        try await write("insert API token") { db in
            try db.execute(
                sql: """
                    INSERT INTO api_tokens (id, owner_id, name, scope, display_prefix, secret_hash, created_at, created_by, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [token.id, token.ownerID, token.name, token.scope.rawValue, token.displayPrefix, Data(secretHash),
                            StoreCoding.seconds(token.createdAt), token.createdBy, token.expiresAt.map(StoreCoding.seconds)]
            )
            let owner = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [token.ownerID]) ?? token.ownerID
            try Self.appendAudit(db, AuditEvent(
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
        try await read("list API tokens") { db in
            if let ownerID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM api_tokens WHERE owner_id = ? ORDER BY created_at DESC", arguments: [ownerID]
                ).map(Self.token)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY created_at DESC").map(Self.token)
        }
    }

    public func apiToken(id: String) async throws -> APITokenRecord? {
        try await read("read API token") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE id = ?", arguments: [id]).map(Self.token)
        }
    }

    public func apiTokenIdentity(secretHash: [UInt8]) async throws -> APITokenIdentity? {
        let policy = membershipPolicy.withLock { $0 }
        return try await read("read API token") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE secret_hash = ?", arguments: [Data(secretHash)]) else {
                return nil
            }
            let token = Self.token(row)
            guard let owner = try Self.userIdentity(db, where: "id = ?", token.ownerID, policy: policy) else { return nil }
            return APITokenIdentity(token: token, owner: owner)
        }
    }

    public func revokeAPIToken(id: String, audit: AuditContext) async throws -> Bool {
        try await write("revoke API token") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE id = ? AND revoked_at IS NULL", arguments: [id]) else {
                return false
            }
            let token = Self.token(row)
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", arguments: [StoreCoding.seconds(audit.at), id])
            let owner = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [token.ownerID]) ?? token.ownerID
            try Self.appendAudit(db, AuditEvent(
                audit, action: .apiTokenRevoked, target: owner,
                before: .object(["id": .string(id), "name": .string(token.name), "scope": .string(token.scope.rawValue)]),
                after: nil
            ))
            return true
        }
    }

    public func recordAPITokenUse(id: String, at: Date) async throws {
        try await write("record API token use") { db in
            try db.execute(sql: "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", arguments: [StoreCoding.seconds(at), id])
        }
    }

    static func token(_ row: Row) -> APITokenRecord {
        APITokenRecord(
            id: row["id"], ownerID: row["owner_id"], name: row["name"],
            scope: APITokenScope(rawValue: row["scope"]) ?? .user, displayPrefix: row["display_prefix"],
            createdAt: StoreCoding.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0), createdBy: row["created_by"],
            expiresAt: StoreCoding.date(row["expires_at"]), lastUsedAt: StoreCoding.date(row["last_used_at"]),
            revokedAt: StoreCoding.date(row["revoked_at"]), actAsCount: (row["act_as_count"] as Int?) ?? 0
        )
    }

    public func recordActAs(tokenID: String, targetEmail: String, ownerEmail: String, audit: AuditContext) async throws {
        try await write("record act-as") { db in
            try db.execute(sql: "UPDATE api_tokens SET act_as_count = act_as_count + 1 WHERE id = ?", arguments: [tokenID])
            try Self.appendAudit(db, AuditEvent(
                audit, action: .apiTokenActedAs, target: targetEmail, before: nil,
                after: .object(["token": .string(tokenID), "owner": .string(ownerEmail)])
            ))
        }
    }
}
