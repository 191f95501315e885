import Foundation
import GRDB
import PortcullisCore
@testable import PortcullisStore
import PortcullisTestSupport
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-\(UUID().uuidString)/store.sqlite").path
    }

    @Test("passes the store conformance suite")
    func conformance() async throws {
        try await StoreConformance.run { try SQLiteStore(path: Self.temporaryPath()) }
    }

    @Test("data survives reopening the file")
    func survivesRestart() async throws {
        let path = Self.temporaryPath()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.recordLogin(LoginProfile(subject: "s", email: "a@example.com", groups: ["G"]), at: t0)
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.user(email: "a@example.com")?.subject == "s")
        #expect(try await reopened.userIdentity(subject: "s")?.groups.map(\.name) == ["G"])
    }

    @Test("the database runs in WAL mode with full synchronous writes")
    func durabilitySettings() async throws {
        let store = try SQLiteStore(path: Self.temporaryPath())
        let mode = try await store.readPragma("journal_mode")
        let synchronous = try await store.readPragma("synchronous")
        #expect(mode == "wal")
        #expect(synchronous == "2")
    }

    /// v3 rebuilt the membership table with a source per row: memberships from before keep
    /// their users and groups, SCIM's where the group has an external id.
    @Test("the v3 migration keeps memberships and labels their sources")
    func migrationFromV2() async throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v2-administration")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users (id, email, email_key, subject, created_at) VALUES ('u1', 'a@example.com', 'a@example.com', 's1', 0);
                    INSERT INTO groups (id, name, display_name, created_at) VALUES ('g1', 'Claims', 'Claims', 0);
                    INSERT INTO groups (id, name, display_name, external_id, created_at) VALUES ('g2', 'Pushed', 'Pushed', 'okta-1', 0);
                    INSERT INTO group_members (group_id, user_id) VALUES ('g1', 'u1'), ('g2', 'u1');
                    INSERT INTO settings (key, value) VALUES ('feature_flags', '{"group_based_permissions":true}');
                    """)
            }
        }
        let store = try SQLiteStore(path: path)
        let groups = try await store.groups(ofUser: "u1")
        #expect(groups.map(\.name) == ["Claims", "Pushed"])
        #expect(groups.map(\.sources) == [[.oidc], [.scim]])
        #expect(try await store.provisionedGroups(offset: 0, limit: 10).groups.map(\.group.name) == ["Pushed"])
        #expect(try await store.versionedFeatureFlags().version == 1)
        #expect(try await store.user(id: "u1")?.version == 1)
    }

    /// v4 adds the session history, the flags and the step-up mark: sessions from before keep
    /// working and can be flagged.
    @Test("the v4 migration keeps sessions, which then take flags")
    func migrationFromV3() async throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v3-scim-and-identity")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users (id, email, email_key, subject, created_at) VALUES ('u1', 'a@example.com', 'a@example.com', 's1', 0);
                    INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, absolute_expires_at, created_ip, last_ip,
                        created_location, last_location, user_agent, browser, os, device_type, auth_method)
                    VALUES (X'0505050505050505050505050505050505050505050505050505050505050505', 'u1', 1, 1, 4102444800, '198.51.100.7',
                        '198.51.100.7', '{"country_code":"DE"}', '{"country_code":"DE"}', '', 'Firefox', 'Linux', 'desktop', 'oidc');
                    """)
            }
        }
        let store = try SQLiteStore(path: path)
        let hash = try #require(SessionIDHash(bytes: Array(repeating: 5, count: 32)))
        let session = try #require(try await store.session(hash))
        #expect(session.stepUpRequiredAt == nil)
        #expect(session.createdLocation.countryCode == "DE")
        let flag = SessionFlag(
            id: "f1", sessionIDHash: hash, userID: "u1",
            evidence: .newCountry(.init(place: ObservedPlace(countryCode: "DE"), knownCountries: ["AU"], windowSeconds: 60)),
            action: .stepUp, raisedAt: Date()
        )
        let audit = AuditContext(actor: SessionRiskRecord.actor, actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        let recorded = try await store.recordSessionRisk(SessionRiskRecord(
            userID: "u1", sessionIDHash: hash, observation: nil, flags: [flag], audit: audit
        ))
        #expect(recorded.awaitsStepUp)
        #expect(try await store.session(hash)?.stepUpRequiredAt != nil)
    }

    /// v6 gives every group mapping a source (issue 21): mappings from before are kept for the
    /// source their group's members came through, or for both, marked, when that cannot tell.
    @Test("the v6 migration keeps group mappings for the source they worked through")
    func migrationFromV4() async throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v4-session-risk")
            try await queue.write { db in
                for statement in MappingSourceMigration.v4Data { try db.execute(sql: statement) }
            }
        }
        try await MappingSourceMigration.check(try SQLiteStore(path: path))
    }
}
