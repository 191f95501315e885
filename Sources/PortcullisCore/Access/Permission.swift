/// A capability that routes require and roles grant (SPEC §1.3).
public enum Permission: String, CaseIterable, Sendable, Hashable, Codable {
    case contentView = "content.view"
    case answersCreate = "answers.create"
    case answersManageAny = "answers.manage_any"
    case announcementsCreate = "announcements.create"
    case announcementsManageAny = "announcements.manage_any"
    case collectionsCreate = "collections.create"
    case collectionsManageAny = "collections.manage_any"
    case goLinksCreate = "go_links.create"
    case goLinksManageAny = "go_links.manage_any"
    case pinsCreatePublic = "pins.create_public"
    case pinsCreatePrivate = "pins.create_private"
    case pinsManageAny = "pins.manage_any"
    case appsActionsCreate = "apps_actions.create"
    case documentsVerifyOwn = "documents.verify_own"
    case documentsVerifyAny = "documents.verify_any"
    case teamsEditOwnPage = "teams.edit_own_page"
    case teamsManage = "teams.manage"
    case insightsView = "insights.view"
    case insightsDownloadCSV = "insights.download_csv"
    case aiAppsCreate = "ai_apps.create"
    case aiAppsManageAny = "ai_apps.manage_any"
    case agentsCreate = "agents.create"
    case assistantManage = "assistant.manage"
    case datasourcesManage = "datasources.manage"
    case teammatesView = "teammates.view"
    case teammatesEditRoles = "teammates.edit_roles"
    case teammatesViewActivity = "teammates.view_activity"
    case teammatesSignOutSessions = "teammates.sign_out_sessions"
    case settingsManage = "settings.manage"
    case groupsView = "groups.view"
    case groupsMapRoles = "groups.map_roles"
    case apiTokensCreate = "api_tokens.create"
    case apiTokensCreateGlobal = "api_tokens.create_global"
    case adminSearchUse = "admin_search.use"
    case dlpReports = "dlp.reports"
    case auditView = "audit.view"

    /// Position in `allCases`; the bit used by ``PermissionSet``.
    public var index: Int {
        Permission.indexByPermission[self] ?? 0
    }

    private static let indexByPermission: [Permission: Int] = Dictionary(
        uniqueKeysWithValues: Permission.allCases.enumerated().map { ($1, $0) }
    )
}

extension Permission: Comparable {
    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        lhs.index < rhs.index
    }
}

/// A set of permissions as one 64-bit word: membership tests on the request path cost a mask.
public struct PermissionSet: Hashable, Sendable {
    public private(set) var bits: UInt64

    public init() { bits = 0 }

    public init<S: Sequence>(_ permissions: S) where S.Element == Permission {
        bits = 0
        for permission in permissions { insert(permission) }
    }

    public static let all = PermissionSet(Permission.allCases)

    public func contains(_ permission: Permission) -> Bool {
        bits & (1 << UInt64(permission.index)) != 0
    }

    public mutating func insert(_ permission: Permission) {
        bits |= 1 << UInt64(permission.index)
    }

    public mutating func remove(_ permission: Permission) {
        bits &= ~(1 << UInt64(permission.index))
    }

    public mutating func formUnion(_ other: PermissionSet) {
        bits |= other.bits
    }

    public var isEmpty: Bool { bits == 0 }

    /// The members in matrix order.
    public var sorted: [Permission] {
        Permission.allCases.filter { contains($0) }
    }
}
