/// What a permission lets someone do, in words: a verb and its object, so that phrases with
/// the same verb can be joined ("create agents and API tokens").
public struct PermissionPhrase: Hashable, Sendable {
    public let verb: String
    public let object: String

    public init(_ verb: String, _ object: String) {
        self.verb = verb
        self.object = object
    }

    public var text: String { "\(verb) \(object)" }
}

extension Permission {
    /// `answers.manage_any` → "moderate answers": for the role summaries of the console.
    public var phrase: PermissionPhrase {
        switch self {
        case .contentView: PermissionPhrase("view", "content")
        case .answersCreate: PermissionPhrase("create", "answers")
        case .answersManageAny: PermissionPhrase("moderate", "answers")
        case .announcementsCreate: PermissionPhrase("create", "announcements")
        case .announcementsManageAny: PermissionPhrase("moderate", "announcements")
        case .collectionsCreate: PermissionPhrase("create", "collections")
        case .collectionsManageAny: PermissionPhrase("moderate", "collections")
        case .goLinksCreate: PermissionPhrase("create", "go links")
        case .goLinksManageAny: PermissionPhrase("moderate", "go links")
        case .pinsCreatePublic: PermissionPhrase("create", "public pins")
        case .pinsCreatePrivate: PermissionPhrase("create", "private pins")
        case .pinsManageAny: PermissionPhrase("moderate", "pins")
        case .appsActionsCreate: PermissionPhrase("create", "Apps and Actions")
        case .documentsVerifyOwn: PermissionPhrase("verify", "their own documents")
        case .documentsVerifyAny: PermissionPhrase("verify", "any document")
        case .teamsEditOwnPage: PermissionPhrase("edit", "their own team page")
        case .teamsManage: PermissionPhrase("manage", "teams")
        case .insightsView: PermissionPhrase("view", "insights")
        case .insightsDownloadCSV: PermissionPhrase("download", "insights as CSV")
        case .aiAppsCreate: PermissionPhrase("create", "AI apps")
        case .aiAppsManageAny: PermissionPhrase("moderate", "AI apps")
        case .agentsCreate: PermissionPhrase("create", "agents")
        case .assistantManage: PermissionPhrase("manage", "the assistant")
        case .datasourcesManage: PermissionPhrase("manage", "data sources")
        case .teammatesView: PermissionPhrase("view", "teammates and their sessions")
        case .teammatesEditRoles: PermissionPhrase("edit", "teammates' roles")
        case .teammatesViewActivity: PermissionPhrase("view", "teammates' activity")
        case .teammatesSignOutSessions: PermissionPhrase("sign out", "teammates' sessions")
        case .settingsManage: PermissionPhrase("manage", "settings")
        case .groupsView: PermissionPhrase("view", "groups")
        case .groupsMapRoles: PermissionPhrase("map", "groups to roles")
        case .apiTokensCreate: PermissionPhrase("create", "API tokens")
        case .apiTokensCreateGlobal: PermissionPhrase("create", "global API tokens")
        case .adminSearchUse: PermissionPhrase("use", "admin search (eDiscovery, document hiding, access verification, sensitive lookup)")
        case .dlpReports: PermissionPhrase("see", "sensitive content reports")
        case .auditView: PermissionPhrase("view", "the audit log")
        }
    }

    /// The part of the product the permission belongs to: `answers.create` → `answers`.
    public var area: String {
        String(rawValue.prefix { $0 != "." })
    }

    /// The area in words, for a role that gains all of it: "manage groups".
    public var areaName: String {
        switch area {
        case "go_links": "go links"
        case "apps_actions": "Apps and Actions"
        case "ai_apps": "AI apps"
        case "assistant": "the assistant"
        case "datasources": "data sources"
        case "api_tokens": "API tokens"
        case "admin_search": "admin search"
        case "dlp": "sensitive content reports"
        case "audit": "the audit log"
        default: area
        }
    }
}
