/// Additional roles. A principal may hold any number; sources are unioned.
public enum SecondaryRole: String, CaseIterable, Sendable, Hashable, Codable {
    case announcementsModerator = "announcements_moderator"
    case answersModerator = "answers_moderator"
    case collectionsModerator = "collections_moderator"
    case goLinksModerator = "go_links_moderator"
    case insightsModerator = "insights_moderator"
    case pinsModerator = "pins_moderator"
    case teamsModerator = "teams_moderator"
    case verificationModerator = "verification_moderator"
    case aiAppCreator = "ai_app_creator"
    case agentCreator = "agent_creator"
    case apiTokenCreator = "api_token_creator"
    case adminSearch = "admin_search"
    /// Also called the DLP moderator.
    case sensitiveContentModerator = "sensitive_content_moderator"

    /// Roles only a super admin may grant or take away.
    public var isSuperAdminOnly: Bool {
        switch self {
        case .adminSearch, .sensitiveContentModerator: true
        default: false
        }
    }

    /// Accepts the canonical name and the "DLP moderator" alias.
    public init?(name: String) {
        if let role = SecondaryRole(rawValue: name) {
            self = role
        } else if name == "dlp_moderator" {
            self = .sensitiveContentModerator
        } else {
            return nil
        }
    }

    public var displayName: String {
        switch self {
        case .announcementsModerator: "Announcements moderator"
        case .answersModerator: "Answers moderator"
        case .collectionsModerator: "Collections moderator"
        case .goLinksModerator: "Go Links moderator"
        case .insightsModerator: "Insights moderator"
        case .pinsModerator: "Pins moderator"
        case .teamsModerator: "Teams moderator"
        case .verificationModerator: "Verification moderator"
        case .aiAppCreator: "AI App Creator"
        case .agentCreator: "Agent Creator"
        case .apiTokenCreator: "API Token Creator"
        case .adminSearch: "Admin Search"
        case .sensitiveContentModerator: "Sensitive Content Moderator"
        }
    }
}

extension SecondaryRole: Comparable {
    public static func < (lhs: SecondaryRole, rhs: SecondaryRole) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// Either kind of role, for requirements such as `require: { role: admin }` and for
/// "last holder" answers that name a role.
public enum RoleName: Hashable, Sendable, CustomStringConvertible {
    case primary(PrimaryRole)
    case secondary(SecondaryRole)

    public init?(_ text: String) {
        if let primary = PrimaryRole(rawValue: text) {
            self = .primary(primary)
        } else if let secondary = SecondaryRole(name: text) {
            self = .secondary(secondary)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .primary(let role): role.rawValue
        case .secondary(let role): role.rawValue
        }
    }

    /// The role as people read it (`Super Admin`, `Answers moderator`), for messages and hints.
    public var displayName: String {
        switch self {
        case .primary(let role): role.displayName
        case .secondary(let role): role.displayName
        }
    }
}
