import Foundation
import PortcullisCore

/// The JSON bodies of the admin API (`/_portcullis/api/v1/`), snake_case on the wire.
package enum AdminAPIModels {
    struct Roles: Codable, Sendable {
        var primary: String?
        var secondary: [String]

        init(primary: String?, secondary: [String]) {
            self.primary = primary
            self.secondary = secondary
        }

        init(_ assignment: RoleAssignment) {
            primary = assignment.primary?.rawValue
            secondary = assignment.secondary.map(\.rawValue).sorted()
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            primary = try container.decodeIfPresent(String.self, forKey: .primary)
            secondary = try container.decodeIfPresent([String].self, forKey: .secondary) ?? []
        }

        /// Role names checked against the model; the first unknown name is the error.
        func assignment() throws(AdminAPIError) -> RoleAssignment {
            var result = RoleAssignment()
            if let primary {
                guard let role = PrimaryRole(rawValue: primary) else { throw .unknownRole(primary) }
                result.primary = role
            }
            guard secondary.count <= SecondaryRole.allCases.count * 2 else { throw .badRequest("too many secondary roles") }
            for name in secondary {
                guard let role = SecondaryRole(rawValue: name) else { throw .unknownRole(name) }
                result.secondary.insert(role)
            }
            return result
        }
    }

    struct Teammate: Encodable, Sendable {
        var email: String
        var name: String?
        var department: String?
        var active: Bool
        var primaryRole: String
        var secondaryRoles: [String]
        var signedUpAt: Date
        var lastSeenAt: Date?

        init(_ identity: UserIdentity) {
            let role = identity.effectiveRole
            email = identity.user.email
            name = identity.user.name
            department = identity.user.department
            active = identity.user.active
            primaryRole = role.primary.rawValue
            secondaryRoles = role.secondary.map(\.rawValue).sorted()
            signedUpAt = identity.user.createdAt
            lastSeenAt = identity.user.lastSeenAt
        }
    }

    struct TeammatePage: Encodable, Sendable {
        var teammates: [Teammate]
        var page: Int
        var pageSize: Int
        var total: Int
    }

    struct Source: Encodable, Sendable {
        var kind: String
        var name: String
        var primary: String?
        var secondary: [String]
        /// For a group: the source of membership the mapping is for and through which the user
        /// is a member, `oidc` (sign-in claims) or `scim`, as a one-element list.
        var membership: [String]?

        init(_ source: RoleSource) {
            kind = source.kind.rawValue
            name = source.name
            primary = source.assignment.primary?.rawValue
            secondary = source.assignment.secondary.map(\.rawValue).sorted()
            membership = source.groupSource.map { [$0.rawValue] }
        }
    }

    struct EffectiveRoleBody: Encodable, Sendable {
        var primary: String
        var secondary: [String]
        var permissions: [String]
        var sources: [Source]?
        /// Group sources set aside because `group_based_permissions` is off.
        var ignoredSources: [Source]?
        /// Nothing assigns a primary role: the user is a member by default.
        var primaryIsDefault: Bool

        init(_ role: EffectiveRole, defaults: DefaultMemberPermissions, withSources: Bool) {
            primary = role.primary.rawValue
            primaryIsDefault = role.primarySource == nil
            secondary = role.secondary.map(\.rawValue).sorted()
            permissions = role.permissions(defaults: defaults).sorted.map(\.rawValue)
            sources = withSources ? role.sources.map(Source.init) : nil
            ignoredSources = withSources && !role.ignoredSources.isEmpty ? role.ignoredSources.map(Source.init) : nil
        }
    }

    struct RoleOptionBody: Encodable, Sendable {
        var role: String
        var kind: String
        var state: String
        var reason: String?
        var groups: [String]

        init(_ option: RoleOption) {
            switch option.role {
            case .primary(let role):
                self.role = role.rawValue
                kind = "primary"
            case .secondary(let role):
                self.role = role.rawValue
                kind = "secondary"
            }
            state = option.state.rawValue
            reason = option.reason
            groups = option.groups
        }
    }

    struct TeammateDetail: Encodable, Sendable {
        var teammate: Teammate
        var directRoles: Roles
        var effectiveRole: EffectiveRoleBody
        var groups: [String]
        /// What the viewer may set, role by role, and why not.
        var roleOptions: [RoleOptionBody]
        /// Whether "Sync now" (`POST …/sync`) can work on this gateway, and why not.
        var sync: SyncAvailability

        struct SyncAvailability: Encodable, Sendable {
            var available: Bool
            var reason: String?
        }

        func encode(to encoder: any Encoder) throws {
            try teammate.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(directRoles, forKey: .directRoles)
            try container.encode(effectiveRole, forKey: .effectiveRole)
            try container.encode(groups, forKey: .groups)
            try container.encode(roleOptions, forKey: .roleOptions)
            try container.encode(sync, forKey: .sync)
        }

        enum CodingKeys: String, CodingKey {
            case directRoles = "direct_roles"
            case effectiveRole = "effective_role"
            case groups
            case roleOptions = "role_options"
            case sync
        }
    }

    package struct Location: Encodable, Sendable {
        package var countryCode: String?
        package var country: String?
        package var city: String?
        package var asn: UInt32?
        package var organization: String?
        /// `loopback`, `private_network`, … for special-purpose ranges.
        package var scope: AddressScope?
        /// In words, never empty: `Berlin, Germany`, `loopback (this machine)`, `unknown`.
        package var summary: String

        init(_ location: GeoLocation, address: IPAddress) {
            countryCode = location.countryCode
            country = location.countryName
            city = location.city
            asn = location.asn
            organization = location.organization
            scope = AddressScope(address)
            summary = location.summary(for: address)
        }
    }

    struct Device: Encodable, Sendable {
        var browser: String
        var os: String
        var type: String
    }

    struct Session: Encodable, Sendable {
        /// The first 12 hex digits of the session id's hash: enough to tell sessions apart,
        /// useless to sign in with.
        var id: String
        var createdAt: Date
        var lastSeenAt: Date
        var expiresAt: Date
        var ip: String
        var location: Location
        var createdIP: String
        var createdLocation: Location
        var device: Device
        var userAgent: String
        var authMethod: String
        var mfa: Bool
        var current: Bool
        /// Suspicious-session flags, newest first, dismissed ones included.
        var flags: [Flag] = []
        /// A `step_up` flag waits for a fresh sign-in: the session is refused until then.
        var stepUpRequired: Bool = false
        /// Why the caller may not dismiss this session's open flags (`super_admin_protected`:
        /// the session is a super admin's and the caller is not one); absent when they may.
        var dismissRefused: String?
    }

    struct SessionList: Encodable, Sendable {
        var email: String
        var sessions: [Session]
    }

    /// A suspicious-session flag, with its reason in words and its evidence.
    struct Flag: Encodable, Sendable {
        var id: String
        var kind: String
        var title: String
        var action: String
        /// `Sydney, AU → Berlin, DE in 12 min (80,000 km/h)`.
        var reason: String
        var raisedAt: Date
        var steppedUpAt: Date?
        var dismissedAt: Date?
        var dismissedBy: String?
        var open: Bool
        var evidence: JSONValue

        init(_ flag: SessionFlag) {
            id = flag.id
            kind = flag.kind.rawValue
            title = flag.kind.title
            action = flag.action.rawValue
            reason = flag.reason
            raisedAt = flag.raisedAt
            steppedUpAt = flag.steppedUpAt
            dismissedAt = flag.dismissedAt
            dismissedBy = flag.dismissedBy
            open = flag.isOpen
            evidence = flag.evidence.jsonValue
        }
    }

    /// `GET /sessions`: live sessions across users, with whose they are.
    struct UserSession: Encodable, Sendable {
        var email: String
        var name: String?
        var session: Session
    }

    struct UserSessionList: Encodable, Sendable {
        var sessions: [UserSession]
    }

    struct SignOutRequest: Decodable, Sendable {
        var includeAPITokens: Bool?
        var reason: String?
    }

    struct SignOutOthersResult: Encodable, Sendable {
        var revokedSessions: Int
    }

    struct SignOutResult: Encodable, Sendable {
        var revokedSessions: Int
        var revokedTokens: Int
    }

    /// A group's mapping for one source of membership.
    struct Mapping: Encodable, Sendable {
        /// `scim` (the group's SCIM members) or `oidc` (those whose groups claim names it).
        var source: String
        var primary: String?
        var secondary: [String]
        /// Kept for both sources by the v6 migration, which could not tell which one it was
        /// made for: an admin should choose.
        var review: Bool
    }

    struct Group: Encodable, Sendable {
        var name: String
        var displayName: String?
        var description: String?
        /// SCIM manages the group (created or adopted it).
        var provisioned: Bool
        var members: Int
        /// Memberships through each source (`scim`, `oidc`).
        var membersBySource: [String: Int]
        /// Its mappings, one per source, SCIM's first.
        var mappings: [Mapping]

        init(_ summary: GroupSummary) {
            name = summary.group.name
            displayName = summary.group.displayName
            description = summary.group.description
            provisioned = summary.group.provisioned
            members = summary.memberCount
            membersBySource = Dictionary(uniqueKeysWithValues: GroupSource.allCases.map { ($0.rawValue, summary.membersBySource[$0] ?? 0) })
            mappings = summary.group.mappings.sorted { $0.key > $1.key }.map { source, roles in
                let shown = Roles(roles)
                return Mapping(
                    source: source.rawValue, primary: shown.primary, secondary: shown.secondary,
                    review: summary.group.mappingsToReview.contains(source)
                )
            }
        }
    }

    /// `PUT /groups/{name}/roles`: the mapping for one source; no roles removes it.
    struct MappingChange: Decodable, Sendable {
        var source: String?
        var primary: String?
        var secondary: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            source = try container.decodeIfPresent(String.self, forKey: .source)
            primary = try container.decodeIfPresent(String.self, forKey: .primary)
            secondary = try container.decodeIfPresent([String].self, forKey: .secondary) ?? []
        }

        enum CodingKeys: String, CodingKey { case source, primary, secondary }

        /// The source the mapping is for: required, never "any group with that name".
        func groupSource() throws(AdminAPIError) -> GroupSource {
            guard let source else {
                throw .badRequest(
                    "say which groups the mapping is for: source \"scim\" (SCIM's members of the group) "
                        + "or \"oidc\" (users whose groups claim names it)",
                    reason: "source_required"
                )
            }
            guard let known = GroupSource(rawValue: source) else {
                throw .badRequest("source must be \"scim\" or \"oidc\", not \"\(source.prefix(20))\"", reason: "unknown_source")
            }
            return known
        }

        func assignment() throws(AdminAPIError) -> RoleAssignment {
            try Roles(primary: primary, secondary: secondary).assignment()
        }
    }

    struct GroupList: Encodable, Sendable {
        var groups: [Group]
        var mappedGroups: Int
        var mappingLimit: Int
    }

    struct Me: Encodable, Sendable {
        var email: String
        var name: String?
        var primaryRole: String
        var secondaryRoles: [String]
        var permissions: [String]
        var authMethod: String
        var mfa: Bool
        /// Send as `X-CSRF-Token` with every state-changing request made with the
        /// session cookie.
        var csrfToken: String?
    }

    struct CreateToken: Decodable, Sendable {
        var name: String
        var scope: String?
        var expiresInDays: Int?
        /// Admins with `api_tokens.create_global` may create a token for someone else.
        var owner: String?
    }

    struct Token: Encodable, Sendable {
        var id: String
        var name: String
        var owner: String
        var scope: String
        var prefix: String
        var createdAt: Date
        var createdBy: String
        var expiresAt: Date?
        var lastUsedAt: Date?
        var revokedAt: Date?
        /// Requests a `global` token made acting as a user (`X-Portcullis-Act-As`).
        var actAsCount: Int

        init(_ record: APITokenRecord, owner: String) {
            id = record.id
            name = record.name
            self.owner = owner
            scope = record.scope.rawValue
            prefix = record.displayPrefix
            createdAt = record.createdAt
            createdBy = record.createdBy
            expiresAt = record.expiresAt
            lastUsedAt = record.lastUsedAt
            revokedAt = record.revokedAt
            actAsCount = record.actAsCount
        }
    }

    struct SyncResult: Encodable, Sendable {
        var email: String
        /// `synced`, or `idp_session_ended` when the provider refused the refresh.
        var outcome: String
        var groupsBefore: [String]
        var groupsAfter: [String]
        var revokedSessions: Int
    }

    struct DepartmentList: Encodable, Sendable {
        var departments: [String]
    }

    struct CreatedToken: Encodable, Sendable {
        var token: Token
        /// Shown once; only its hash is kept.
        var secret: String
    }

    struct TokenList: Encodable, Sendable {
        var tokens: [Token]
    }

    struct AuditList: Encodable, Sendable {
        var entries: [AuditEntry]
    }

    struct GreenlistBody: Codable, Sendable {
        var name: String?
        var source: String?
        var tenant: Bool?
        var entries: [Greenlist.Entry]
        var force: Bool?
    }

    struct GreenlistList: Encodable, Sendable {
        var greenlists: [GreenlistBody]
        var tenantGreenlist: String?
        /// `config` when the configuration file sets it (then it cannot be changed here).
        var tenantGreenlistSource: String?
    }

    struct TenantGreenlistRequest: Decodable, Sendable {
        var greenlist: String?
        var force: Bool?
    }

    struct IPTestRequest: Decodable, Sendable {
        var ip: String
        var user: String?
        var route: String?
    }

    struct DryRunRequest: Decodable, Sendable {
        var greenlist: GreenlistBody
    }

    package struct CutOffSession: Encodable, Sendable {
        package var email: String
        package var session: String
        package var ip: String
        package var location: Location
        package var lastSeenAt: Date
    }

    package struct DryRunResult: Encodable, Sendable {
        package var sessionsCutOff: [CutOffSession]
        package var adminsCutOff: [String]
        package var wouldLockOutSelf: Bool
        package var yourAddress: String

        package init(sessionsCutOff: [CutOffSession], adminsCutOff: [String], wouldLockOutSelf: Bool, yourAddress: String) {
            self.sessionsCutOff = sessionsCutOff
            self.adminsCutOff = adminsCutOff
            self.wouldLockOutSelf = wouldLockOutSelf
            self.yourAddress = yourAddress
        }
    }

    struct RotatedKey: Encodable, Sendable {
        var kid: String
        var published: [String]
    }
}
