/// The five switches that admins turn on or off for everyone whose effective primary role is
/// `member` or `setup_admin` (SPEC §1.3, footnote 1). A change applies to the next request.
public struct DefaultMemberPermissions: Hashable, Sendable, Codable {
    public var answersCreate: Bool
    public var collectionsCreate: Bool
    public var pinsCreatePublic: Bool
    public var goLinksCreate: Bool
    public var appsActionsCreate: Bool

    public init(
        answersCreate: Bool = true,
        collectionsCreate: Bool = true,
        pinsCreatePublic: Bool = true,
        goLinksCreate: Bool = true,
        appsActionsCreate: Bool = true
    ) {
        self.answersCreate = answersCreate
        self.collectionsCreate = collectionsCreate
        self.pinsCreatePublic = pinsCreatePublic
        self.goLinksCreate = goLinksCreate
        self.appsActionsCreate = appsActionsCreate
    }

    /// The shipped default: every switch on, as the seeds recommend for most teams.
    public static let allOn = DefaultMemberPermissions()

    /// The permissions a switch controls, in the order the teammates page lists them.
    public static let switchable: [Permission] = [
        .answersCreate, .collectionsCreate, .pinsCreatePublic, .goLinksCreate, .appsActionsCreate,
    ]

    public func isOn(_ permission: Permission) -> Bool {
        switch permission {
        case .answersCreate: answersCreate
        case .collectionsCreate: collectionsCreate
        case .pinsCreatePublic: pinsCreatePublic
        case .goLinksCreate: goLinksCreate
        case .appsActionsCreate: appsActionsCreate
        default: false
        }
    }

    /// Sets a switch; returns false for a permission that is not one of the five.
    @discardableResult
    public mutating func set(_ permission: Permission, to value: Bool) -> Bool {
        switch permission {
        case .answersCreate: answersCreate = value
        case .collectionsCreate: collectionsCreate = value
        case .pinsCreatePublic: pinsCreatePublic = value
        case .goLinksCreate: goLinksCreate = value
        case .appsActionsCreate: appsActionsCreate = value
        default: return false
        }
        return true
    }

    /// The switches that are on, as a set.
    public var enabled: PermissionSet {
        PermissionSet(Self.switchable.filter(isOn))
    }

    enum CodingKeys: String, CodingKey {
        case answersCreate = "answers.create"
        case collectionsCreate = "collections.create"
        case pinsCreatePublic = "pins.create_public"
        case goLinksCreate = "go_links.create"
        case appsActionsCreate = "apps_actions.create"
    }
}
