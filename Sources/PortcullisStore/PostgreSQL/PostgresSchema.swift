/// Migrations of the shared store, applied in order under an advisory lock so that instances
/// starting together do not race. Append new ones; never edit a shipped one.
enum PostgresSchema {
    static let migrations: [(name: String, sql: [String])] = [
        ("v1-directory-and-sessions", [
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_key TEXT NOT NULL UNIQUE,
                subject TEXT UNIQUE,
                name TEXT,
                department TEXT,
                active BOOLEAN NOT NULL DEFAULT TRUE,
                direct_primary TEXT,
                direct_secondary TEXT NOT NULL DEFAULT '',
                created_at DOUBLE PRECISION NOT NULL,
                last_login_at DOUBLE PRECISION,
                last_seen_at DOUBLE PRECISION,
                not_before DOUBLE PRECISION,
                external_id TEXT
            )
            """,
            """
            CREATE TABLE groups (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                display_name TEXT,
                external_id TEXT,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE group_members (
                group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                PRIMARY KEY (group_id, user_id)
            )
            """,
            "CREATE INDEX group_members_user ON group_members(user_id)",
            """
            CREATE TABLE group_roles (
                group_id TEXT PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
                primary_role TEXT,
                secondary TEXT NOT NULL DEFAULT '',
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                id_hash BYTEA PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at DOUBLE PRECISION NOT NULL,
                last_seen_at DOUBLE PRECISION NOT NULL,
                absolute_expires_at DOUBLE PRECISION NOT NULL,
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
                mfa BOOLEAN NOT NULL DEFAULT FALSE,
                revoked_at DOUBLE PRECISION,
                revoked_by TEXT,
                revoked_reason TEXT
            )
            """,
            "CREATE INDEX sessions_user ON sessions(user_id, revoked_at)",
            "CREATE INDEX sessions_idp_session ON sessions(idp_session_id)",
            """
            CREATE TABLE one_time_values (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (kind, value)
            )
            """,
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
        ]),
        ("v2-administration", [
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                scope TEXT NOT NULL,
                display_prefix TEXT NOT NULL,
                secret_hash BYTEA NOT NULL UNIQUE,
                created_at DOUBLE PRECISION NOT NULL,
                created_by TEXT NOT NULL,
                expires_at DOUBLE PRECISION,
                last_used_at DOUBLE PRECISION,
                revoked_at DOUBLE PRECISION
            )
            """,
            "CREATE INDEX api_tokens_owner ON api_tokens(owner_id)",
            "CREATE TABLE greenlists (name TEXT PRIMARY KEY, entries TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
            """
            CREATE TABLE audit_log (
                sequence BIGINT PRIMARY KEY,
                at DOUBLE PRECISION NOT NULL,
                actor TEXT NOT NULL,
                actor_is_super_admin BOOLEAN NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                body TEXT NOT NULL,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_log_at ON audit_log(at)",
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only';
            END
            $$
            """,
            """
            CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
            """,
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION audit_log_append_only()",
        ]),
        // SCIM documents and versions; group descriptions and which groups SCIM manages; the
        // source of every membership (sign-in claims or SCIM), as part of its key; settings
        // versions (compare-and-set); act-as counters; sealed refresh tokens. Memberships from
        // before are SCIM's in groups with an external id, else sign-ins'.
        ("v3-scim-and-identity", [
            """
            ALTER TABLE users ADD COLUMN scim_document TEXT, ADD COLUMN version BIGINT NOT NULL DEFAULT 1,
                ADD COLUMN updated_at DOUBLE PRECISION
            """,
            """
            ALTER TABLE groups ADD COLUMN description TEXT, ADD COLUMN provisioned BOOLEAN NOT NULL DEFAULT FALSE,
                ADD COLUMN version BIGINT NOT NULL DEFAULT 1, ADD COLUMN updated_at DOUBLE PRECISION
            """,
            "UPDATE groups SET provisioned = TRUE WHERE external_id IS NOT NULL",
            "ALTER TABLE group_members ADD COLUMN source TEXT NOT NULL DEFAULT 'oidc'",
            "UPDATE group_members m SET source = 'scim' FROM groups g WHERE g.id = m.group_id AND g.provisioned",
            "ALTER TABLE group_members ALTER COLUMN source DROP DEFAULT",
            "ALTER TABLE group_members DROP CONSTRAINT group_members_pkey",
            "ALTER TABLE group_members ADD PRIMARY KEY (group_id, user_id, source)",
            "ALTER TABLE settings ADD COLUMN version BIGINT NOT NULL DEFAULT 1",
            "ALTER TABLE api_tokens ADD COLUMN act_as_count BIGINT NOT NULL DEFAULT 0",
            """
            CREATE TABLE refresh_tokens (
                user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                sealed BYTEA NOT NULL,
                refreshed_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]),
        // Suspicious sessions: the pruned sign-in history (coarse place, network, device
        // family, time: nothing else), the flags raised on sessions (gone with their session),
        // and the step-up mark.
        ("v4-session-risk", [
            """
            CREATE TABLE session_history (
                id BIGSERIAL PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                at DOUBLE PRECISION NOT NULL,
                event TEXT NOT NULL,
                country TEXT,
                city TEXT,
                latitude DOUBLE PRECISION,
                longitude DOUBLE PRECISION,
                accuracy_km DOUBLE PRECISION,
                asn BIGINT,
                browser TEXT NOT NULL,
                os TEXT NOT NULL,
                device_type TEXT NOT NULL
            )
            """,
            "CREATE INDEX session_history_user ON session_history(user_id, at)",
            "CREATE INDEX session_history_at ON session_history(at)",
            """
            CREATE TABLE session_flags (
                id TEXT PRIMARY KEY,
                session_id_hash BYTEA NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                evidence TEXT NOT NULL,
                raised_at DOUBLE PRECISION NOT NULL,
                stepped_up_at DOUBLE PRECISION,
                dismissed_at DOUBLE PRECISION,
                dismissed_by TEXT
            )
            """,
            "CREATE UNIQUE INDEX session_flags_subject ON session_flags(session_id_hash, kind, subject)",
            "CREATE INDEX session_flags_user ON session_flags(user_id, raised_at)",
            "CREATE INDEX session_flags_open ON session_flags(dismissed_at, raised_at)",
            "ALTER TABLE sessions ADD COLUMN step_up_required_at DOUBLE PRECISION",
        ]),
    ]
}
