import Foundation
import PortcullisCore

/// Rows to records, once for both databases. A column added to a table is read here.
enum StoreRows {
    static func user(_ row: StoreRow) throws -> UserRecord {
        UserRecord(
            id: try row["id"],
            email: try row["email"],
            subject: try row["subject"],
            name: try row["name"],
            department: try row["department"],
            active: try row["active"],
            directRoles: RoleAssignment(
                primary: StoreCoding.primaryRole(try row["direct_primary"]),
                secondary: StoreCoding.secondaryRoles(try row["direct_secondary"])
            ),
            createdAt: StoreCoding.date(try row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            lastLoginAt: StoreCoding.date(try row["last_login_at"]),
            lastSeenAt: StoreCoding.date(try row["last_seen_at"]),
            notBefore: StoreCoding.date(try row["not_before"]),
            externalID: try row["external_id"],
            scimDocument: StoreCoding.document(try row["scim_document"]),
            version: try row["version"],
            updatedAt: StoreCoding.date(try row["updated_at"])
        )
    }

    /// A user's columns and, beside them, the settings with the keys `$2` and `$3` (the default
    /// member permissions and the feature flags, as `setting_defaults` and `setting_flags`): a
    /// user and what turns their roles into permissions in one row, one round trip.
    static let userWithSettings: StoreStatement = """
        SELECT u.*, (SELECT value FROM settings WHERE key = $2) AS setting_defaults,
            (SELECT value FROM settings WHERE key = $3) AS setting_flags
        FROM users u
        """

    /// The columns ``group(_:)`` reads, from `groups g LEFT JOIN group_roles r`.
    static let groupColumns: StoreStatement = """
        g.id, g.name, g.display_name, g.external_id, g.description, g.provisioned, g.version, g.created_at, g.updated_at,
        r.group_id AS role_group_id, r.primary_role, r.secondary
        """

    static func group(_ row: StoreRow) throws -> GroupRecord {
        let mapped: String? = try row["role_group_id"]
        return GroupRecord(
            id: try row["id"],
            name: try row["name"],
            displayName: try row["display_name"],
            externalID: try row["external_id"],
            roles: mapped == nil ? nil : RoleAssignment(
                primary: StoreCoding.primaryRole(try row["primary_role"]),
                secondary: StoreCoding.secondaryRoles(try row["secondary"])
            ),
            description: try row["description"],
            provisioned: try row["provisioned"],
            version: try row["version"],
            createdAt: StoreCoding.date(try row["created_at"]),
            updatedAt: StoreCoding.date(try row["updated_at"]),
            sources: row.contains("sources") ? StoreCoding.sources(try row["sources"]) : []
        )
    }

    /// A group with its member count (column `members`).
    static func groupSummary(_ row: StoreRow) throws -> GroupSummary {
        GroupSummary(group: try group(row), memberCount: try row["members"])
    }

    /// `nil` when the stored hash is not a session id hash.
    static func session(_ row: StoreRow) throws -> SessionRecord? {
        guard let idHash = try hash(row, "id_hash") else { return nil }
        let amr: String = try row["amr"]
        return SessionRecord(
            idHash: idHash,
            userID: try row["user_id"],
            createdAt: StoreCoding.date(try row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            lastSeenAt: StoreCoding.date(try row["last_seen_at"]) ?? Date(timeIntervalSince1970: 0),
            absoluteExpiresAt: StoreCoding.date(try row["absolute_expires_at"]) ?? Date(timeIntervalSince1970: 0),
            createdIP: StoreCoding.address(try row["created_ip"]),
            lastIP: StoreCoding.address(try row["last_ip"]),
            createdLocation: StoreCoding.location(try row["created_location"]),
            lastLocation: StoreCoding.location(try row["last_location"]),
            userAgent: try row["user_agent"],
            device: DeviceInfo(
                browser: try row["browser"], os: try row["os"],
                type: DeviceInfo.DeviceType(rawValue: try row["device_type"]) ?? .unknown
            ),
            authMethod: AuthenticationMethod(rawValue: try row["auth_method"]) ?? .oidc,
            idpSessionID: try row["idp_session_id"],
            amr: amr.isEmpty ? [] : amr.split(separator: " ").map(String.init),
            acr: try row["acr"],
            mfa: try row["mfa"],
            revokedAt: StoreCoding.date(try row["revoked_at"]),
            revokedBy: try row["revoked_by"],
            revokedReason: try row["revoked_reason"],
            stepUpRequiredAt: row.contains("step_up_required_at") ? StoreCoding.date(try row["step_up_required_at"]) : nil,
            authenticatedAt: row.contains("auth_time") ? StoreCoding.date(try row["auth_time"]) : nil
        )
    }

    /// A session id hash column (`nil` when it holds something else).
    static func hash(_ row: StoreRow, _ column: String = "id_hash") throws -> SessionIDHash? {
        let bytes: Data = try row[column]
        return SessionIDHash(bytes: Array(bytes))
    }

    static func token(_ row: StoreRow) throws -> APITokenRecord {
        APITokenRecord(
            id: try row["id"], ownerID: try row["owner_id"], name: try row["name"],
            scope: APITokenScope(rawValue: try row["scope"]) ?? .user,
            displayPrefix: try row["display_prefix"],
            createdAt: StoreCoding.date(try row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            createdBy: try row["created_by"],
            expiresAt: StoreCoding.date(try row["expires_at"]),
            lastUsedAt: StoreCoding.date(try row["last_used_at"]),
            revokedAt: StoreCoding.date(try row["revoked_at"]),
            actAsCount: try row["act_as_count"]
        )
    }

    static func auditRow(_ row: StoreRow) throws -> AuditChain.Row {
        AuditChain.Row(
            sequence: try row["sequence"], at: try row["at"], actor: try row["actor"],
            actorIsSuperAdmin: try row["actor_is_super_admin"], action: try row["action"], target: try row["target"],
            body: try row["body"], previousHash: try row["previous_hash"], hash: try row["hash"]
        )
    }

    /// The audit entry a row holds; `nil` when its body is not an entry.
    static func auditEntry(_ row: StoreRow) throws -> AuditEntry? {
        AuditChain.entry(try auditRow(row))
    }

    static func refreshToken(_ row: StoreRow) throws -> StoredRefreshToken {
        let sealed: Data = try row["sealed"]
        return StoredRefreshToken(
            userID: try row["user_id"], sealed: Array(sealed),
            refreshedAt: StoreCoding.date(try row["refreshed_at"]) ?? Date(timeIntervalSince1970: 0)
        )
    }

    static func observation(_ row: StoreRow) throws -> SessionObservation {
        SessionRiskCoding.observation(
            at: try row["at"], event: try row["event"], country: try row["country"], city: try row["city"],
            latitude: try row["latitude"], longitude: try row["longitude"], accuracyKm: try row["accuracy_km"],
            asn: try row["asn"], browser: try row["browser"], os: try row["os"], deviceType: try row["device_type"]
        )
    }

    /// `nil` when the flag cannot be read (written by a newer version).
    static func flag(_ row: StoreRow) throws -> SessionFlag? {
        SessionRiskCoding.flag(
            id: try row["id"], sessionIDHash: try row["session_id_hash"], userID: try row["user_id"],
            evidence: try row["evidence"], action: try row["action"], raisedAt: try row["raised_at"],
            steppedUpAt: try row["stepped_up_at"], dismissedAt: try row["dismissed_at"], dismissedBy: try row["dismissed_by"]
        )
    }
}
