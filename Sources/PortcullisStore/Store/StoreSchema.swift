/// The schema, written once: the migrations both databases apply in order, each recorded by
/// name (SQLite through GRDB's migrator, PostgreSQL under an advisory lock so that instances
/// starting together do not race). Types and constants that the dialects spell differently are
/// fragments (`\(.real)`, `\(.bytes)`, `\(.boolean)`); the few steps one dialect must take its
/// own way are marked for it. Append new migrations; never edit a shipped one.
enum StoreSchema {
    struct Migration: Sendable {
        enum Step: Sendable {
            /// One statement both dialects run.
            case both(StoreStatement)
            /// A statement only this dialect runs.
            case only(StoreDialect, String)
        }

        let name: String
        let steps: [Step]

        init(_ name: String, _ steps: [Step]) {
            self.name = name
            self.steps = steps
        }

        /// The statements a dialect runs, in order.
        func statements(for dialect: StoreDialect) -> [String] {
            steps.compactMap { step in
                switch step {
                case .both(let statement): statement.text(for: dialect)
                case .only(let only, let text): only == dialect ? text : nil
                }
            }
        }
    }

    static let migrations: [Migration] = [
        directoryAndSessions, administration, scimAndIdentity, sessionRisk, sessionAuthTime, groupMappingSources,
    ]

    static let directoryAndSessions = Migration("v1-directory-and-sessions", [
        .both("""
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_key TEXT NOT NULL UNIQUE,
                subject TEXT UNIQUE,
                name TEXT,
                department TEXT,
                active \(.boolean) NOT NULL DEFAULT \(.true),
                direct_primary TEXT,
                direct_secondary TEXT NOT NULL DEFAULT '',
                created_at \(.real) NOT NULL,
                last_login_at \(.real),
                last_seen_at \(.real),
                not_before \(.real),
                external_id TEXT
            )
            """),
        .both("""
            CREATE TABLE groups (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                display_name TEXT,
                external_id TEXT,
                created_at \(.real) NOT NULL
            )
            """),
        .both("""
            CREATE TABLE group_members (
                group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                PRIMARY KEY (group_id, user_id)
            )
            """),
        .both("CREATE INDEX group_members_user ON group_members(user_id)"),
        .both("""
            CREATE TABLE group_roles (
                group_id TEXT PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
                primary_role TEXT,
                secondary TEXT NOT NULL DEFAULT '',
                updated_at \(.real) NOT NULL
            )
            """),
        .both("""
            CREATE TABLE sessions (
                id_hash \(.bytes) PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at \(.real) NOT NULL,
                last_seen_at \(.real) NOT NULL,
                absolute_expires_at \(.real) NOT NULL,
                created_ip TEXT NOT NULL,
                last_ip TEXT NOT NULL,
                created_location TEXT NOT NULL,
                last_location TEXT NOT NULL,
                user_agent TEXT NOT NULL,
                browser TEXT NOT NULL,
                os TEXT NOT NULL,
                device_type TEXT NOT NULL,
                auth_method TEXT NOT NULL,
                idp_session_id TEXT,
                amr TEXT NOT NULL DEFAULT '',
                acr TEXT,
                mfa \(.boolean) NOT NULL DEFAULT \(.false),
                revoked_at \(.real),
                revoked_by TEXT,
                revoked_reason TEXT
            )
            """),
        .both("CREATE INDEX sessions_user ON sessions(user_id, revoked_at)"),
        .both("CREATE INDEX sessions_idp_session ON sessions(idp_session_id)"),
        .both("""
            CREATE TABLE one_time_values (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                expires_at \(.real) NOT NULL,
                PRIMARY KEY (kind, value)
            )
            """),
        .both("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
        .both("CREATE TABLE secrets (name TEXT PRIMARY KEY, value \(.bytes) NOT NULL)"),
    ])

    static let administration = Migration("v2-administration", [
        .both("""
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                scope TEXT NOT NULL,
                display_prefix TEXT NOT NULL,
                secret_hash \(.bytes) NOT NULL UNIQUE,
                created_at \(.real) NOT NULL,
                created_by TEXT NOT NULL,
                expires_at \(.real),
                last_used_at \(.real),
                revoked_at \(.real)
            )
            """),
        .both("CREATE INDEX api_tokens_owner ON api_tokens(owner_id)"),
        .both("CREATE TABLE greenlists (name TEXT PRIMARY KEY, entries TEXT NOT NULL, updated_at \(.real) NOT NULL)"),
        .both("""
            CREATE TABLE audit_log (
                sequence \(.integer) PRIMARY KEY,
                at \(.real) NOT NULL,
                actor TEXT NOT NULL,
                actor_is_super_admin \(.boolean) NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                body TEXT NOT NULL,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """),
        .both("CREATE INDEX audit_log_at ON audit_log(at)"),
        // The audit log is append-only: triggers refuse updates and deletes.
        .only(.sqlite, """
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
            """),
        .only(.sqlite, """
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
            """),
        .only(.postgres, """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only';
            END
            $$
            """),
        .only(.postgres, """
            CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
            """),
        .only(.postgres, "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION audit_log_append_only()"),
    ])

    /// SCIM documents and versions; group descriptions and which groups SCIM manages; the
    /// source of every membership (sign-in claims or SCIM), as part of its key; settings
    /// versions (compare-and-set); act-as counters; sealed refresh tokens. Memberships from
    /// before are SCIM's in groups with an external id, else sign-ins'.
    static let scimAndIdentity = Migration("v3-scim-and-identity", [
        .both("ALTER TABLE users ADD COLUMN scim_document TEXT"),
        .both("ALTER TABLE users ADD COLUMN version \(.integer) NOT NULL DEFAULT 1"),
        .both("ALTER TABLE users ADD COLUMN updated_at \(.real)"),
        .both("ALTER TABLE groups ADD COLUMN description TEXT"),
        .both("ALTER TABLE groups ADD COLUMN provisioned \(.boolean) NOT NULL DEFAULT \(.false)"),
        .both("ALTER TABLE groups ADD COLUMN version \(.integer) NOT NULL DEFAULT 1"),
        .both("ALTER TABLE groups ADD COLUMN updated_at \(.real)"),
        .both("UPDATE groups SET provisioned = \(.true) WHERE external_id IS NOT NULL"),
        // The source joins the membership's primary key: SQLite cannot change a primary key in
        // place, so it rebuilds the table.
        .only(.sqlite, """
            CREATE TABLE group_members_v3 (
                group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                PRIMARY KEY (group_id, user_id, source)
            )
            """),
        .only(.sqlite, """
            INSERT INTO group_members_v3 (group_id, user_id, source)
                SELECT m.group_id, m.user_id, CASE WHEN g.provisioned = 1 THEN 'scim' ELSE 'oidc' END
                FROM group_members m JOIN groups g ON g.id = m.group_id
            """),
        .only(.sqlite, "DROP TABLE group_members"),
        .only(.sqlite, "ALTER TABLE group_members_v3 RENAME TO group_members"),
        .only(.sqlite, "CREATE INDEX group_members_user ON group_members(user_id)"),
        .only(.postgres, "ALTER TABLE group_members ADD COLUMN source TEXT NOT NULL DEFAULT 'oidc'"),
        .only(.postgres, "UPDATE group_members m SET source = 'scim' FROM groups g WHERE g.id = m.group_id AND g.provisioned"),
        .only(.postgres, "ALTER TABLE group_members ALTER COLUMN source DROP DEFAULT"),
        .only(.postgres, "ALTER TABLE group_members DROP CONSTRAINT group_members_pkey"),
        .only(.postgres, "ALTER TABLE group_members ADD PRIMARY KEY (group_id, user_id, source)"),
        .both("ALTER TABLE settings ADD COLUMN version \(.integer) NOT NULL DEFAULT 1"),
        .both("ALTER TABLE api_tokens ADD COLUMN act_as_count \(.integer) NOT NULL DEFAULT 0"),
        .both("""
            CREATE TABLE refresh_tokens (
                user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                sealed \(.bytes) NOT NULL,
                refreshed_at \(.real) NOT NULL
            )
            """),
    ])

    /// Suspicious sessions: the pruned sign-in history (coarse place, network, device family,
    /// time: nothing else), the flags raised on sessions (gone with their session), and the
    /// step-up mark.
    static let sessionRisk = Migration("v4-session-risk", [
        .both("""
            CREATE TABLE session_history (
                id \(.serialKey),
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                at \(.real) NOT NULL,
                event TEXT NOT NULL,
                country TEXT,
                city TEXT,
                latitude \(.real),
                longitude \(.real),
                accuracy_km \(.real),
                asn \(.integer),
                browser TEXT NOT NULL,
                os TEXT NOT NULL,
                device_type TEXT NOT NULL
            )
            """),
        .both("CREATE INDEX session_history_user ON session_history(user_id, at)"),
        .both("CREATE INDEX session_history_at ON session_history(at)"),
        .both("""
            CREATE TABLE session_flags (
                id TEXT PRIMARY KEY,
                session_id_hash \(.bytes) NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                evidence TEXT NOT NULL,
                raised_at \(.real) NOT NULL,
                stepped_up_at \(.real),
                dismissed_at \(.real),
                dismissed_by TEXT
            )
            """),
        .both("CREATE UNIQUE INDEX session_flags_subject ON session_flags(session_id_hash, kind, subject)"),
        .both("CREATE INDEX session_flags_user ON session_flags(user_id, raised_at)"),
        .both("CREATE INDEX session_flags_open ON session_flags(dismissed_at, raised_at)"),
        .both("ALTER TABLE sessions ADD COLUMN step_up_required_at \(.real)"),
    ])

    /// When the user signed in at the identity provider (`auth_time`), for `max_auth_age`.
    /// Sessions from before have none, so a route or admin call with `max_auth_age` asks them to
    /// sign in again: the safe side.
    static let sessionAuthTime = Migration("v5-session-auth-time", [
        .both("ALTER TABLE sessions ADD COLUMN auth_time \(.real)"),
    ])

    /// Group mappings name the source of membership they are for (`scim`, or `oidc`: the
    /// groups claim of sign-ins), part of their key: a mapping no longer counts for "any group
    /// with that name". Each mapping from before is kept for the source it can have worked
    /// through, judged by the group's memberships:
    ///
    /// - only SCIM's members → `scim`; only sign-ins' members → `oidc`;
    /// - no members and SCIM manages the group (created or adopted it) → `scim`;
    /// - members from both sources, or no members and a group SCIM does not manage (a mapping
    ///   made before anyone arrived) → both, each marked `review`: nobody loses a role they
    ///   hold now, and the console, `GET /groups` and the start-up log ask an admin to choose.
    static let groupMappingSources = Migration("v6-group-mapping-sources", [
        .both("""
            CREATE TABLE group_roles_v6 (
                group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                primary_role TEXT,
                secondary TEXT NOT NULL DEFAULT '',
                updated_at \(.real) NOT NULL,
                review \(.boolean) NOT NULL DEFAULT \(.false),
                PRIMARY KEY (group_id, source)
            )
            """),
        .both("""
            INSERT INTO group_roles_v6 (group_id, source, primary_role, secondary, updated_at, review)
            SELECT f.group_id, s.source, f.primary_role, f.secondary, f.updated_at,
                (f.scim AND f.oidc) OR NOT (f.scim OR f.oidc OR f.provisioned)
            FROM (
                SELECT r.group_id, r.primary_role, r.secondary, r.updated_at, g.provisioned,
                    EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = r.group_id AND m.source = 'scim') AS scim,
                    EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = r.group_id AND m.source = 'oidc') AS oidc
                FROM group_roles r JOIN groups g ON g.id = r.group_id
            ) f
            JOIN (SELECT 'scim' AS source UNION ALL SELECT 'oidc' AS source) s
                ON (s.source = 'scim' AND (f.scim OR NOT f.oidc))
                OR (s.source = 'oidc' AND (f.oidc OR NOT (f.scim OR f.provisioned)))
            """),
        .both("DROP TABLE group_roles"),
        .both("ALTER TABLE group_roles_v6 RENAME TO group_roles"),
        .only(.postgres, "ALTER TABLE group_roles RENAME CONSTRAINT group_roles_v6_pkey TO group_roles_pkey"),
        .only(.postgres, "ALTER TABLE group_roles RENAME CONSTRAINT group_roles_v6_group_id_fkey TO group_roles_group_id_fkey"),
    ])
}
