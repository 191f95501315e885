import GRDB

/// Migrations of the embedded store. Append new ones; never edit a shipped one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-directory-and-sessions") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL UNIQUE,
                    subject TEXT UNIQUE,
                    name TEXT,
                    department TEXT,
                    active INTEGER NOT NULL DEFAULT 1,
                    direct_primary TEXT,
                    direct_secondary TEXT NOT NULL DEFAULT '',
                    created_at REAL NOT NULL,
                    last_login_at REAL,
                    last_seen_at REAL,
                    not_before REAL,
                    external_id TEXT
                );
                CREATE TABLE groups (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    display_name TEXT,
                    external_id TEXT,
                    created_at REAL NOT NULL
                );
                CREATE TABLE group_members (
                    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    PRIMARY KEY (group_id, user_id)
                );
                CREATE INDEX group_members_user ON group_members(user_id);
                CREATE TABLE group_roles (
                    group_id TEXT PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
                    primary_role TEXT,
                    secondary TEXT NOT NULL DEFAULT '',
                    updated_at REAL NOT NULL
                );
                CREATE TABLE sessions (
                    id_hash BLOB PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_at REAL NOT NULL,
                    last_seen_at REAL NOT NULL,
                    absolute_expires_at REAL NOT NULL,
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
                    mfa INTEGER NOT NULL DEFAULT 0,
                    revoked_at REAL,
                    revoked_by TEXT,
                    revoked_reason TEXT
                );
                CREATE INDEX sessions_user ON sessions(user_id, revoked_at);
                CREATE INDEX sessions_idp_session ON sessions(idp_session_id);
                CREATE TABLE one_time_values (
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    PRIMARY KEY (kind, value)
                );
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE secrets (
                    name TEXT PRIMARY KEY,
                    value BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-administration") { db in
            try db.execute(sql: """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY,
                    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    display_prefix TEXT NOT NULL,
                    secret_hash BLOB NOT NULL UNIQUE,
                    created_at REAL NOT NULL,
                    created_by TEXT NOT NULL,
                    expires_at REAL,
                    last_used_at REAL,
                    revoked_at REAL
                );
                CREATE INDEX api_tokens_owner ON api_tokens(owner_id);
                CREATE TABLE greenlists (
                    name TEXT PRIMARY KEY,
                    entries TEXT NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE audit_log (
                    sequence INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    actor_is_super_admin INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    body TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX audit_log_at ON audit_log(at);
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        migrator.registerMigration("v3-scim-and-identity") { db in
            // SCIM documents and versions; group descriptions and which groups SCIM manages;
            // the source of every membership (sign-in claims or SCIM), as part of its key;
            // settings versions (compare-and-set); act-as counters; sealed refresh tokens.
            // Memberships from before are SCIM's in groups with an external id, else sign-ins'.
            try db.execute(sql: """
                ALTER TABLE users ADD COLUMN scim_document TEXT;
                ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE users ADD COLUMN updated_at REAL;
                ALTER TABLE groups ADD COLUMN description TEXT;
                ALTER TABLE groups ADD COLUMN provisioned INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE groups ADD COLUMN updated_at REAL;
                UPDATE groups SET provisioned = 1 WHERE external_id IS NOT NULL;
                CREATE TABLE group_members_v3 (
                    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    source TEXT NOT NULL,
                    PRIMARY KEY (group_id, user_id, source)
                );
                INSERT INTO group_members_v3 (group_id, user_id, source)
                    SELECT m.group_id, m.user_id, CASE WHEN g.provisioned = 1 THEN 'scim' ELSE 'oidc' END
                    FROM group_members m JOIN groups g ON g.id = m.group_id;
                DROP TABLE group_members;
                ALTER TABLE group_members_v3 RENAME TO group_members;
                CREATE INDEX group_members_user ON group_members(user_id);
                ALTER TABLE settings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE api_tokens ADD COLUMN act_as_count INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE refresh_tokens (
                    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    sealed BLOB NOT NULL,
                    refreshed_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-session-risk") { db in
            // Suspicious sessions: the pruned sign-in history (coarse place, network, device
            // family, time: nothing else), the flags raised on sessions (gone with their
            // session), and the step-up mark.
            try db.execute(sql: """
                CREATE TABLE session_history (
                    id INTEGER PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    event TEXT NOT NULL,
                    country TEXT,
                    city TEXT,
                    latitude REAL,
                    longitude REAL,
                    accuracy_km REAL,
                    asn INTEGER,
                    browser TEXT NOT NULL,
                    os TEXT NOT NULL,
                    device_type TEXT NOT NULL
                );
                CREATE INDEX session_history_user ON session_history(user_id, at);
                CREATE INDEX session_history_at ON session_history(at);
                CREATE TABLE session_flags (
                    id TEXT PRIMARY KEY,
                    session_id_hash BLOB NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    action TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    evidence TEXT NOT NULL,
                    raised_at REAL NOT NULL,
                    stepped_up_at REAL,
                    dismissed_at REAL,
                    dismissed_by TEXT
                );
                CREATE UNIQUE INDEX session_flags_subject ON session_flags(session_id_hash, kind, subject);
                CREATE INDEX session_flags_user ON session_flags(user_id, raised_at);
                CREATE INDEX session_flags_open ON session_flags(dismissed_at, raised_at);
                ALTER TABLE sessions ADD COLUMN step_up_required_at REAL;
                """)
        }
        return migrator
    }
}
