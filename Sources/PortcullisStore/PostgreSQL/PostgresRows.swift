import Foundation
import PortcullisCore
import PostgresNIO

/// Rows to records, for the PostgreSQL store (the columns are those of the SQLite store).
enum PostgresRows {
    static func user(_ row: PostgresRow) throws -> UserRecord {
        let r = row.makeRandomAccess()
        return UserRecord(
            id: try r["id"].decode(String.self),
            email: try r["email"].decode(String.self),
            subject: try r["subject"].decode(String?.self),
            name: try r["name"].decode(String?.self),
            department: try r["department"].decode(String?.self),
            active: try r["active"].decode(Bool.self),
            directRoles: RoleAssignment(
                primary: StoreCoding.primaryRole(try r["direct_primary"].decode(String?.self)),
                secondary: StoreCoding.secondaryRoles(try r["direct_secondary"].decode(String.self))
            ),
            createdAt: StoreCoding.date(try r["created_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0),
            lastLoginAt: StoreCoding.date(try r["last_login_at"].decode(Double?.self)),
            lastSeenAt: StoreCoding.date(try r["last_seen_at"].decode(Double?.self)),
            notBefore: StoreCoding.date(try r["not_before"].decode(Double?.self)),
            externalID: try r["external_id"].decode(String?.self),
            scimDocument: StoreCoding.document(try r["scim_document"].decode(String?.self)),
            version: Int(try r["version"].decode(Int64.self)),
            updatedAt: StoreCoding.date(try r["updated_at"].decode(Double?.self))
        )
    }

    static let groupColumns = """
        g.id, g.name, g.display_name, g.external_id, g.description, g.provisioned, g.version, g.created_at, g.updated_at,
        r.group_id AS role_group_id, r.primary_role, r.secondary
        """

    static func group(_ row: PostgresRow) throws -> GroupRecord {
        let r = row.makeRandomAccess()
        let mapped = try r["role_group_id"].decode(String?.self)
        return GroupRecord(
            id: try r["id"].decode(String.self),
            name: try r["name"].decode(String.self),
            displayName: try r["display_name"].decode(String?.self),
            externalID: try r["external_id"].decode(String?.self),
            roles: mapped == nil ? nil : RoleAssignment(
                primary: StoreCoding.primaryRole(try r["primary_role"].decode(String?.self)),
                secondary: StoreCoding.secondaryRoles(try r["secondary"].decode(String?.self))
            ),
            description: try r["description"].decode(String?.self),
            provisioned: try r["provisioned"].decode(Bool.self),
            version: Int(try r["version"].decode(Int64.self)),
            createdAt: StoreCoding.date(try r["created_at"].decode(Double?.self)),
            updatedAt: StoreCoding.date(try r["updated_at"].decode(Double?.self)),
            sources: r.contains("sources") ? StoreCoding.sources(try r["sources"].decode(String?.self)) : []
        )
    }

    static func session(_ row: PostgresRow) throws -> SessionRecord? {
        let r = row.makeRandomAccess()
        guard let idHash = SessionIDHash(bytes: Array(try r["id_hash"].decode(Data.self))) else { return nil }
        let amr = try r["amr"].decode(String.self)
        return SessionRecord(
            idHash: idHash,
            userID: try r["user_id"].decode(String.self),
            createdAt: StoreCoding.date(try r["created_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0),
            lastSeenAt: StoreCoding.date(try r["last_seen_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0),
            absoluteExpiresAt: StoreCoding.date(try r["absolute_expires_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0),
            createdIP: StoreCoding.address(try r["created_ip"].decode(String.self)),
            lastIP: StoreCoding.address(try r["last_ip"].decode(String.self)),
            createdLocation: StoreCoding.location(try r["created_location"].decode(String.self)),
            lastLocation: StoreCoding.location(try r["last_location"].decode(String.self)),
            userAgent: try r["user_agent"].decode(String.self),
            device: DeviceInfo(
                browser: try r["browser"].decode(String.self), os: try r["os"].decode(String.self),
                type: DeviceInfo.DeviceType(rawValue: try r["device_type"].decode(String.self)) ?? .unknown
            ),
            authMethod: AuthenticationMethod(rawValue: try r["auth_method"].decode(String.self)) ?? .oidc,
            idpSessionID: try r["idp_session_id"].decode(String?.self),
            amr: amr.isEmpty ? [] : amr.split(separator: " ").map(String.init),
            acr: try r["acr"].decode(String?.self),
            mfa: try r["mfa"].decode(Bool.self),
            revokedAt: StoreCoding.date(try r["revoked_at"].decode(Double?.self)),
            revokedBy: try r["revoked_by"].decode(String?.self),
            revokedReason: try r["revoked_reason"].decode(String?.self),
            stepUpRequiredAt: r.contains("step_up_required_at") ? StoreCoding.date(try r["step_up_required_at"].decode(Double?.self)) : nil
        )
    }

    static func token(_ row: PostgresRow) throws -> APITokenRecord {
        let r = row.makeRandomAccess()
        return APITokenRecord(
            id: try r["id"].decode(String.self), ownerID: try r["owner_id"].decode(String.self), name: try r["name"].decode(String.self),
            scope: APITokenScope(rawValue: try r["scope"].decode(String.self)) ?? .user,
            displayPrefix: try r["display_prefix"].decode(String.self),
            createdAt: StoreCoding.date(try r["created_at"].decode(Double.self)) ?? Date(timeIntervalSince1970: 0),
            createdBy: try r["created_by"].decode(String.self),
            expiresAt: StoreCoding.date(try r["expires_at"].decode(Double?.self)),
            lastUsedAt: StoreCoding.date(try r["last_used_at"].decode(Double?.self)),
            revokedAt: StoreCoding.date(try r["revoked_at"].decode(Double?.self)),
            actAsCount: Int(try r["act_as_count"].decode(Int64.self))
        )
    }

    static func auditRow(_ row: PostgresRow) throws -> AuditChain.Row {
        let r = row.makeRandomAccess()
        return AuditChain.Row(
            sequence: try r["sequence"].decode(Int64.self), at: try r["at"].decode(Double.self), actor: try r["actor"].decode(String.self),
            actorIsSuperAdmin: try r["actor_is_super_admin"].decode(Bool.self), action: try r["action"].decode(String.self),
            target: try r["target"].decode(String.self), body: try r["body"].decode(String.self),
            previousHash: try r["previous_hash"].decode(String.self), hash: try r["hash"].decode(String.self)
        )
    }
}

extension PostgresConnection {
    /// Every row of a query, mapped.
    func all<T>(_ query: PostgresQuery, logger: Logger, _ transform: (PostgresRow) throws -> T?) async throws -> [T] {
        var result: [T] = []
        for try await row in try await self.query(query, logger: logger) {
            if let value = try transform(row) { result.append(value) }
        }
        return result
    }

    func first<T>(_ query: PostgresQuery, logger: Logger, _ transform: (PostgresRow) throws -> T?) async throws -> T? {
        try await all(query, logger: logger, transform).first
    }

    /// The number of rows a statement with `RETURNING 1` touched.
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }

    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type, logger: Logger) async throws -> T? {
        var values: [T] = []
        for try await value in try await self.query(query, logger: logger).decode(T.self) { values.append(value) }
        return values.first
    }
}
