import Foundation
import GRDB
import PortcullisCore

/// Rows to records, for the SQLite store.
enum SQLiteRows {
    static func user(_ row: Row) -> UserRecord {
        UserRecord(
            id: row["id"],
            email: row["email"],
            subject: row["subject"],
            name: row["name"],
            department: row["department"],
            active: (row["active"] as Int?) != 0,
            directRoles: RoleAssignment(
                primary: StoreCoding.primaryRole(row["direct_primary"]),
                secondary: StoreCoding.secondaryRoles(row["direct_secondary"])
            ),
            createdAt: StoreCoding.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            lastLoginAt: StoreCoding.date(row["last_login_at"]),
            lastSeenAt: StoreCoding.date(row["last_seen_at"]),
            notBefore: StoreCoding.date(row["not_before"]),
            externalID: row["external_id"],
            scimDocument: StoreCoding.document(row["scim_document"]),
            version: (row["version"] as Int?) ?? 1,
            updatedAt: StoreCoding.date(row["updated_at"])
        )
    }

    static func group(_ row: Row) -> GroupRecord {
        let mapped = row["role_group_id"] as String?
        return GroupRecord(
            id: row["id"],
            name: row["name"],
            displayName: row["display_name"],
            externalID: row["external_id"],
            roles: mapped == nil ? nil : RoleAssignment(
                primary: StoreCoding.primaryRole(row["primary_role"]),
                secondary: StoreCoding.secondaryRoles(row["secondary"])
            ),
            description: row["description"],
            provisioned: ((row["provisioned"] as Int?) ?? 0) != 0,
            version: (row["version"] as Int?) ?? 1,
            createdAt: StoreCoding.date(row["created_at"]),
            updatedAt: StoreCoding.date(row["updated_at"]),
            sources: StoreCoding.sources(row["sources"])
        )
    }

    static let groupColumns = """
        g.id, g.name, g.display_name, g.external_id, g.description, g.provisioned, g.version, g.created_at, g.updated_at,
        r.group_id AS role_group_id, r.primary_role, r.secondary
        """

    static func session(_ row: Row) -> SessionRecord? {
        let hashData: Data = row["id_hash"]
        guard let idHash = SessionIDHash(bytes: Array(hashData)) else { return nil }
        let amr: String = row["amr"]
        return SessionRecord(
            idHash: idHash,
            userID: row["user_id"],
            createdAt: StoreCoding.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            lastSeenAt: StoreCoding.date(row["last_seen_at"]) ?? Date(timeIntervalSince1970: 0),
            absoluteExpiresAt: StoreCoding.date(row["absolute_expires_at"]) ?? Date(timeIntervalSince1970: 0),
            createdIP: StoreCoding.address(row["created_ip"]),
            lastIP: StoreCoding.address(row["last_ip"]),
            createdLocation: StoreCoding.location(row["created_location"]),
            lastLocation: StoreCoding.location(row["last_location"]),
            userAgent: row["user_agent"],
            device: DeviceInfo(
                browser: row["browser"], os: row["os"],
                type: DeviceInfo.DeviceType(rawValue: row["device_type"]) ?? .unknown
            ),
            authMethod: AuthenticationMethod(rawValue: row["auth_method"]) ?? .oidc,
            idpSessionID: row["idp_session_id"],
            amr: amr.isEmpty ? [] : amr.split(separator: " ").map(String.init),
            acr: row["acr"],
            mfa: (row["mfa"] as Int?) != 0,
            revokedAt: StoreCoding.date(row["revoked_at"]),
            revokedBy: row["revoked_by"],
            revokedReason: row["revoked_reason"],
            stepUpRequiredAt: StoreCoding.date(row["step_up_required_at"])
        )
    }

    static func hashes(_ rows: [Row]) -> [SessionIDHash] {
        rows.compactMap { row in
            let data: Data = row["id_hash"]
            return SessionIDHash(bytes: Array(data))
        }
    }
}
