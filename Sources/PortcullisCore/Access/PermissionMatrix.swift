/// The permission matrix of SPEC §1.3 as data, and the permissions an effective role holds.
public enum PermissionMatrix {
    private static let everyone: Set<PrimaryRole> = [.member, .setupAdmin, .admin, .superAdmin]
    private static let admins: Set<PrimaryRole> = [.admin, .superAdmin]
    private static let defaultOn: PermissionGrant = PermissionGrant(
        primaryRoles: admins, isDefaultMemberPermission: true
    )

    /// One row per permission.
    public static func grant(for permission: Permission) -> PermissionGrant {
        switch permission {
        case .contentView, .pinsCreatePrivate, .documentsVerifyOwn, .teamsEditOwnPage:
            PermissionGrant(primaryRoles: everyone)
        case .answersCreate, .collectionsCreate, .goLinksCreate, .pinsCreatePublic, .appsActionsCreate:
            defaultOn
        case .answersManageAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.answersModerator])
        case .announcementsCreate:
            PermissionGrant(primaryRoles: admins)
        case .announcementsManageAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.announcementsModerator])
        case .collectionsManageAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.collectionsModerator])
        case .goLinksManageAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.goLinksModerator])
        case .pinsManageAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.pinsModerator])
        case .documentsVerifyAny:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.verificationModerator])
        case .teamsManage:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.teamsModerator])
        case .insightsView, .insightsDownloadCSV:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.insightsModerator])
        case .aiAppsCreate:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.aiAppCreator])
        case .aiAppsManageAny, .assistantManage, .teammatesView, .teammatesSignOutSessions,
             .groupsView, .groupsMapRoles, .auditView:
            PermissionGrant(primaryRoles: admins)
        case .agentsCreate:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.agentCreator])
        case .datasourcesManage:
            PermissionGrant(primaryRoles: [.setupAdmin, .admin, .superAdmin])
        case .teammatesEditRoles, .teammatesViewActivity, .settingsManage:
            PermissionGrant(primaryRoles: admins, isAdminOnly: true)
        case .apiTokensCreate:
            PermissionGrant(primaryRoles: admins, secondaryRoles: [.apiTokenCreator])
        case .apiTokensCreateGlobal:
            PermissionGrant(primaryRoles: [.superAdmin])
        case .adminSearchUse:
            PermissionGrant(primaryRoles: [], secondaryRoles: [.adminSearch])
        case .dlpReports:
            PermissionGrant(primaryRoles: [.superAdmin], secondaryRoles: [.sensitiveContentModerator])
        }
    }

    /// The permissions a primary role holds by itself, given the default member switches.
    public static func permissions(
        of primary: PrimaryRole,
        defaults: DefaultMemberPermissions
    ) -> PermissionSet {
        var result = PermissionSet()
        for permission in Permission.allCases where holds(primary, permission, defaults: defaults) {
            result.insert(permission)
        }
        return result
    }

    /// The permissions a secondary role grants.
    public static func permissions(granting secondary: SecondaryRole) -> PermissionSet {
        PermissionSet(Permission.allCases.filter { grant(for: $0).secondaryRoles.contains(secondary) })
    }

    /// Everything a user with this primary role and these secondary roles may do.
    ///
    /// Every request of a signed-in user asks this, so it reads tables computed once from the
    /// matrix above rather than walk the matrix (which builds sets) each time.
    public static func permissions(
        primary: PrimaryRole,
        secondary: Set<SecondaryRole>,
        defaults: DefaultMemberPermissions
    ) -> PermissionSet {
        var result = Tables.shared.primary[Tables.index(primary, defaults)]
        for role in secondary {
            result.formUnion(Tables.shared.secondary[Tables.index(role)])
        }
        return result
    }

    /// ``permissions(of:defaults:)`` for every primary role and every setting of the default
    /// member switches, and ``permissions(granting:)`` for every secondary role.
    struct Tables: Sendable {
        static let shared = Tables()
        let primary: [PermissionSet]
        let secondary: [PermissionSet]

        init() {
            let switches = DefaultMemberPermissions.switchable
            var primary: [PermissionSet] = []
            for role in PrimaryRole.allCases {
                for bits in 0..<(1 << switches.count) {
                    primary.append(PermissionMatrix.permissions(of: role, defaults: Self.defaults(bits)))
                }
            }
            self.primary = primary
            secondary = SecondaryRole.allCases.map { PermissionMatrix.permissions(granting: $0) }
        }

        static func defaults(_ bits: Int) -> DefaultMemberPermissions {
            var defaults = DefaultMemberPermissions.allOn
            for (offset, permission) in DefaultMemberPermissions.switchable.enumerated() where bits & (1 << offset) == 0 {
                defaults.set(permission, to: false)
            }
            return defaults
        }

        static func index(_ role: PrimaryRole, _ defaults: DefaultMemberPermissions) -> Int {
            let switches = DefaultMemberPermissions.switchable
            var bits = 0
            for (offset, permission) in switches.enumerated() where defaults.isOn(permission) { bits |= 1 << offset }
            return (primaryOrder.firstIndex(of: role) ?? 0) << switches.count | bits
        }

        static func index(_ role: SecondaryRole) -> Int { secondaryOrder.firstIndex(of: role) ?? 0 }

        private static let primaryOrder = PrimaryRole.allCases
        private static let secondaryOrder = SecondaryRole.allCases
    }

    /// Why a user holds a permission, for the effective-role explanation.
    public static func reasons(
        for permission: Permission,
        primary: PrimaryRole,
        secondary: Set<SecondaryRole>,
        defaults: DefaultMemberPermissions
    ) -> [PermissionReason] {
        var reasons: [PermissionReason] = []
        let grant = grant(for: permission)
        if grant.primaryRoles.contains(primary) {
            reasons.append(.primaryRole(primary))
        } else if grant.isDefaultMemberPermission, primary <= .setupAdmin, defaults.isOn(permission) {
            reasons.append(.defaultMemberPermission)
        }
        for role in secondary.sorted() where grant.secondaryRoles.contains(role) {
            reasons.append(.secondaryRole(role))
        }
        return reasons
    }

    private static func holds(
        _ primary: PrimaryRole,
        _ permission: Permission,
        defaults: DefaultMemberPermissions
    ) -> Bool {
        let grant = grant(for: permission)
        if grant.primaryRoles.contains(primary) { return true }
        return grant.isDefaultMemberPermission && primary <= .setupAdmin && defaults.isOn(permission)
    }
}

/// One reason a user holds a permission.
public enum PermissionReason: Hashable, Sendable {
    case primaryRole(PrimaryRole)
    case defaultMemberPermission
    case secondaryRole(SecondaryRole)
}
