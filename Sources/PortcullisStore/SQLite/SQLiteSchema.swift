import GRDB

/// The schema's migrations (``StoreSchema``) as GRDB's migrator runs them on SQLite.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration(migration.name) { db in
                for statement in migration.statements(for: .sqlite) {
                    try db.execute(sql: statement)
                }
            }
        }
        return migrator
    }
}
