import HTTPTypes
import PortcullisCore


extension AdminAPI {
    /// Every endpoint of the admin API with what it needs: one place to read who may call what.
    static let routes: [AdminRoute] = [
        AdminRoute(.get, "me", .signedIn) { $0.me },
        AdminRoute(.get, "me/sessions", .signedIn) { $0.mySessions },
        AdminRoute(.post, "me/sessions/sign-out-others", .signedIn) { $0.signOutMyOtherSessions },
        AdminRoute(.get, "roles", .signedIn) { $0.roles },
        AdminRoute(.get, "teammates", .permission(.teammatesView)) { $0.listTeammates },
        AdminRoute(.get, "teammates/:email", .permission(.teammatesView)) { $0.teammate },
        AdminRoute(.put, "teammates/:email/roles", .permission(.teammatesEditRoles)) { $0.changeRoles },
        AdminRoute(.get, "teammates/:email/sessions", .permission(.teammatesView)) { $0.sessionsOfTeammate },
        AdminRoute(.post, "teammates/:email/sessions/sign-out-all", .permission(.teammatesSignOutSessions)) { $0.signOutAll },
        AdminRoute(.get, "sessions", .permission(.teammatesView)) { $0.allSessions },
        AdminRoute(.post, "sessions/flags/:id/dismiss", .permission(.teammatesSignOutSessions)) { $0.dismissFlag },
        AdminRoute(.post, "teammates/:email/sync", .permission(.teammatesEditRoles)) { $0.syncNow },
        AdminRoute(.get, "departments", .permission(.teammatesView)) { $0.departments },
        AdminRoute(.get, "groups", .permission(.groupsView)) { $0.listGroups },
        AdminRoute(.get, "groups/:name/roles", .permission(.groupsView)) { $0.groupRoles },
        AdminRoute(.put, "groups/:name/roles", .permission(.groupsMapRoles)) { $0.changeGroupRoles },
        AdminRoute(.get, "settings/default-member-permissions", .permission(.settingsManage)) { $0.defaultMemberPermissions },
        AdminRoute(.put, "settings/default-member-permissions", .permission(.settingsManage)) { $0.changeDefaultMemberPermissions },
        AdminRoute(.get, "settings/feature-flags", .permission(.settingsManage)) { $0.featureFlags },
        AdminRoute(.put, "settings/feature-flags", .permission(.settingsManage)) { $0.changeFeatureFlags },
        AdminRoute(.put, "settings/tenant-greenlist", .permission(.settingsManage)) { $0.changeTenantGreenlist },
        // Their own tokens; `?all=true` also needs api_tokens.create_global.
        AdminRoute(.get, "api-tokens", .signedIn) { $0.listTokens },
        // A global token, or one for someone else, also needs api_tokens.create_global.
        AdminRoute(.post, "api-tokens", .permission(.apiTokensCreate)) { $0.createToken },
        // Their own token; someone else's needs teammates.sign_out_sessions.
        AdminRoute(.delete, "api-tokens/:id", .signedIn) { $0.revokeToken },
        AdminRoute(.get, "audit", .permission(.auditView)) { $0.audit },
        // Verifying reads the whole chain: it takes as long as the log is long.
        AdminRoute(.get, "audit/verify", .permission(.auditView), readDeadline: false) { $0.verifyAudit },
        AdminRoute(.get, "greenlists", .permission(.settingsManage)) { $0.listGreenlists },
        AdminRoute(.put, "greenlists/:name", .permission(.settingsManage)) { $0.putGreenlist },
        AdminRoute(.delete, "greenlists/:name", .permission(.settingsManage)) { $0.deleteGreenlist },
        AdminRoute(.post, "ip-policy/test", .permission(.settingsManage)) { $0.testIPPolicy },
        AdminRoute(.post, "ip-policy/dry-run", .permission(.settingsManage)) { $0.dryRunGreenlist },
        AdminRoute(.post, "signing-keys/rotate", .superAdmin("rotating signing keys")) { $0.rotateSigningKey },
    ]
}
