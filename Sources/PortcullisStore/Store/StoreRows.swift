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

    /// The columns ``groups(_:)`` reads, from `groups g LEFT JOIN group_roles r`: a group comes
    /// once for each of its mappings (once with no mapping).
    static let groupColumns: StoreStatement = """
        g.id, g.name, g.display_name, g.external_id, g.description, g.provisioned, g.version, g.created_at, g.updated_at,
        r.source AS role_source, r.primary_role, r.secondary, r.review AS role_review
        """

    /// Groups from rows of ``groupColumns``, each group once, in the order first seen: the
    /// mappings of its rows gathered by source, and, where the rows carry `member_source` (a
    /// user's memberships), the sources of membership; `members` and `<source>_members`
    /// columns give ``GroupSummary`` counts (see ``groupSummaries(_:)``).
    static func groups(_ rows: [StoreRow]) throws -> [GroupRecord] {
        var order: [String] = []
        var byID: [String: GroupRecord] = [:]
        for row in rows {
            let id: String = try row["id"]
            var group: GroupRecord
            if let seen = byID[id] {
                group = seen
            } else {
                order.append(id)
                group = GroupRecord(
                    id: id,
                    name: try row["name"],
                    displayName: try row["display_name"],
                    externalID: try row["external_id"],
                    description: try row["description"],
                    provisioned: try row["provisioned"],
                    version: try row["version"],
                    createdAt: StoreCoding.date(try row["created_at"]),
                    updatedAt: StoreCoding.date(try row["updated_at"])
                )
            }
            let mapped: String? = try row["role_source"]
            if let source = mapped.flatMap(GroupSource.init(rawValue:)) {
                group.mappings[source] = RoleAssignment(
                    primary: StoreCoding.primaryRole(try row["primary_role"]),
                    secondary: StoreCoding.secondaryRoles(try row["secondary"])
                )
                let review: Bool? = try row["role_review"]
                if review == true { group.mappingsToReview.insert(source) }
            }
            if row.contains("member_source") {
                let member: String = try row["member_source"]
                if let source = GroupSource(rawValue: member) { group.sources.insert(source) }
            }
            byID[id] = group
        }
        return order.compactMap { byID[$0] }
    }

    /// The count columns a group summary adds to ``groupColumns``: every member, and those of
    /// each source (`scim_members`, `oidc_members`).
    static let groupCountColumns: StoreStatement = """
        (SELECT COUNT(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) AS members,
        (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.source = 'scim') AS scim_members,
        (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.source = 'oidc') AS oidc_members
        """

    /// Groups with their member counts, from rows of ``groupColumns`` and ``groupCountColumns``.
    static func groupSummaries(_ rows: [StoreRow]) throws -> [GroupSummary] {
        var counts: [String: (Int, [GroupSource: Int])] = [:]
        for row in rows {
            let id: String = try row["id"]
            guard counts[id] == nil else { continue }
            let scim: Int = try row["scim_members"]
            let oidc: Int = try row["oidc_members"]
            counts[id] = (try row["members"], [.scim: scim, .oidc: oidc])
        }
        return try groups(rows).map { group in
            let count = counts[group.id] ?? (0, [:])
            return GroupSummary(group: group, memberCount: count.0, membersBySource: count.1)
        }
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
