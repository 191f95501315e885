import Foundation
import Logging
import PortcullisCore
@testable import PortcullisStore
import PortcullisTestSupport
import PostgresNIO
import Synchronization
import Testing

/// The shared store against a real PostgreSQL server started by the tests.
@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    /// A store on a fresh database, running; `stop` cancels it.
    final class Running: Sendable {
        let store: PostgresStore
        private let task: Task<Void, Never>

        init(url: String, migrate: Bool = true, maxConnections: Int = StoreConfiguration.defaultPostgresConnections) async throws {
            var logger = Logger(label: "test.postgres")
            logger.logLevel = .error
            store = PostgresStore(url: try PostgresURL(parsing: url), maxConnections: maxConnections, logger: logger)
            let store = self.store
            // Queries wait for the pool to start: no sleep needed, and no "run() hasn't been
            // called yet" warning.
            task = Task { await store.run() }
            if migrate { try await store.migrate() }
        }

        func stop() async {
            task.cancel()
            await task.value
        }
    }

    /// A cluster of its own for each test (removed at the end): initdb takes about a second.
    static func cluster() async throws -> TestPostgres {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        return try await TestPostgres.start()
    }

    @Test("passes the store conformance suite")
    func conformance() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let running = ManagedList()
        try await StoreConformance.run {
            let store = try await Running(url: try cluster.createDatabase())
            running.add(store)
            return store.store
        }
        for store in running.all { await store.stop() }
    }

    final class ManagedList: @unchecked Sendable {
        private var items: [Running] = []
        private let lock = NSLock()
        func add(_ item: Running) { lock.withLock { items.append(item) } }
        var all: [Running] { lock.withLock { items } }
    }

    @Test("migrations run once even when instances start together, and again is a no-op")
    func concurrentMigrations() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let first = try await Running(url: url, migrate: false)
        let second = try await Running(url: url, migrate: false)
        async let a: Void = first.store.migrate()
        async let b: Void = second.store.migrate()
        _ = try await (a, b)
        try await first.store.migrate()
        #expect(try await first.store.latestAuditSequence() == 0)
        await first.stop()
        await second.stop()
    }

    @Test("a revocation on one instance reaches the other's change feed")
    func changeFeed() async throws {
        let cluster = try await Self.cluster()
        let url = try cluster.createDatabase()
        let one = try await Running(url: url)
        let two = try await Running(url: url)
        defer { cluster.remove() }
        for _ in 0..<200 where !two.store.isListening { try await Task.sleep(for: .milliseconds(10)) }
        let changes = two.store.changes()
        let user = try await one.store.recordLogin(LoginProfile(subject: "s", email: "a@example.com"), at: Date())
        let hash = try #require(SessionIDHash(bytes: Array(repeating: 9, count: 32)))
        try await one.store.insertSession(SessionRecord(
            idHash: hash, userID: user.id, createdAt: Date(), lastSeenAt: Date(), absoluteExpiresAt: Date().addingTimeInterval(600),
            createdIP: .literal("127.0.0.1"), lastIP: .literal("127.0.0.1"), createdLocation: .unknown, lastLocation: .unknown,
            userAgent: "", device: DeviceInfo(browser: "", os: "", type: .unknown), authMethod: .oidc, idpSessionID: nil,
            amr: [], acr: nil, mfa: false
        ))
        let started = ContinuousClock.now
        #expect(try await one.store.revokeSession(hash, at: Date(), by: "test", reason: "test"))
        var received: AnnouncedChange?
        for await change in changes {
            received = change
            break
        }
        #expect(received?.change == .sessionsRevoked(sessions: [hash], users: []))
        // Stamped by the database as it announced the commit.
        let committedAt = try #require(received?.committedAt)
        #expect(abs(committedAt.timeIntervalSinceNow) < 5)
        #expect(ContinuousClock.now - started < .seconds(1))
        await one.stop()
        await two.stop()
    }

    @Test("suspicious sessions: a deny is announced as a revocation, a step-up mark and its dismissal as sessions_changed")
    func riskChangeFeed() async throws {
        let cluster = try await Self.cluster()
        let url = try cluster.createDatabase()
        let one = try await Running(url: url)
        let two = try await Running(url: url)
        defer { cluster.remove() }
        for _ in 0..<200 where !two.store.isListening { try await Task.sleep(for: .milliseconds(10)) }
        var changes = two.store.changes().makeAsyncIterator()
        let user = try await one.store.recordLogin(LoginProfile(subject: "s", email: "a@example.com"), at: Date())
        // 32 bytes always make a hash.
        let sessions = [UInt8(1), 2].compactMap { SessionIDHash(bytes: Array(repeating: $0, count: 32)) }
        #expect(sessions.count == 2)
        func session(_ seed: UInt8) -> SessionIDHash { sessions[Int(seed) - 1] }
        for seed in [1, 2] as [UInt8] {
            try await one.store.insertSession(SessionRecord(
                idHash: session(seed), userID: user.id, createdAt: Date(), lastSeenAt: Date(), absoluteExpiresAt: Date().addingTimeInterval(600),
                createdIP: .literal("127.0.0.1"), lastIP: .literal("127.0.0.1"), createdLocation: .unknown, lastLocation: .unknown,
                userAgent: "", device: DeviceInfo(browser: "", os: "", type: .unknown), authMethod: .oidc, idpSessionID: nil,
                amr: [], acr: nil, mfa: false
            ))
        }
        let audit = AuditContext(actor: SessionRiskRecord.actor, actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        func flag(_ id: String, _ hash: SessionIDHash, _ action: SessionRiskAction) -> SessionFlag {
            SessionFlag(
                id: id, sessionIDHash: hash, userID: user.id,
                evidence: .newCountry(.init(place: ObservedPlace(countryCode: "DE"), knownCountries: ["AU"], windowSeconds: 60)),
                action: action, raisedAt: Date()
            )
        }
        _ = try await one.store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: session(1), observation: nil, flags: [flag("f1", session(1), .stepUp)], audit: audit
        ))
        #expect(await changes.next()?.change == .sessionsChanged(sessions: [session(1)]))
        _ = try await one.store.dismissSessionFlagUnconditionally(id: "f1", audit: audit)
        #expect(await changes.next()?.change == .sessionsChanged(sessions: [session(1)]))
        _ = try await one.store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: session(2), observation: nil, flags: [flag("f2", session(2), .deny)], audit: audit
        ))
        #expect(await changes.next()?.change == .sessionsRevoked(sessions: [session(2)], users: []))
        await one.stop()
        await two.stop()
    }

    @Test("the audit log's triggers refuse edits; an edit made with them disabled is found")
    func auditTampering() async throws {
        let cluster = try await Self.cluster()
        let url = try cluster.createDatabase()
        let running = try await Running(url: url)
        defer { cluster.remove() }
        let context = AuditContext(actor: "a@example.com", actorIsSuperAdmin: true, sourceIP: nil, at: Date())
        for index in 0..<3 {
            try await running.store.appendAudit(AuditEvent(context, action: .featureFlagsChanged, target: "t\(index)", before: nil, after: .bool(true)))
        }
        #expect(try await running.store.verifyAuditLog().isIntact)
        // One plain connection (not a pool, which would need a service running first).
        let logger = Logger(label: "test.tamper")
        let connection = try await PostgresConnection.connect(configuration: try Self.connectionConfiguration(url), id: 1, logger: logger)
        await #expect(throws: (any Error).self) { try await connection.query("UPDATE audit_log SET actor = 'x' WHERE sequence = 2", logger: logger) }
        await #expect(throws: (any Error).self) { try await connection.query("DELETE FROM audit_log WHERE sequence = 2", logger: logger) }
        try await connection.query("ALTER TABLE audit_log DISABLE TRIGGER USER", logger: logger)
        try await connection.query("UPDATE audit_log SET target = 'forged' WHERE sequence = 2", logger: logger)
        try await connection.close()
        let result = try await running.store.verifyAuditLog()
        #expect(!result.isIntact)
        #expect(result.brokenAt == 2)
        await running.stop()
    }

    /// v6 gives every group mapping a source (issue 21): a database left at v4 by the previous
    /// version, with data, is migrated by the next start.
    @Test("the v6 migration keeps group mappings for the source they worked through")
    func migrationFromV4() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let logger = Logger(label: "test.migration")
        let connection = try await PostgresConnection.connect(configuration: try Self.connectionConfiguration(url), id: 1, logger: logger)
        try await connection.query("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)", logger: logger)
        for migration in StoreSchema.migrations.prefix(while: { $0.name != "v6-group-mapping-sources" }) {
            for statement in migration.statements(for: .postgres) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), 0)", logger: logger)
        }
        for statement in MappingSourceMigration.v4Data {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await connection.close()
        let running = try await Running(url: url)
        try await MappingSourceMigration.check(running.store)
        await running.stop()
    }

    static func connectionConfiguration(_ url: String) throws -> PostgresConnection.Configuration {
        let parsed = try PostgresURL(parsing: url)
        return PostgresConnection.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.username, password: nil, database: parsed.database, tls: .disable
        )
    }

    /// `store.postgres.max_connections` (issue 28 item 4): thirty instances on PostgreSQL's
    /// default 100 connections need a small pool each. Ten reads wait on a locked table; no
    /// more of them reach the server than the pool holds.
    @Test("the pool holds at most max_connections connections: ten reads at once on a pool of two, two at the server")
    func poolSize() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let running = try await Running(url: url, maxConnections: 2)
        defer { Task { await running.stop() } }
        let store = running.store
        let lock = try cluster.startSQL("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;", database: database)
        defer { Task { _ = await lock.stop(grace: .seconds(1)) } }
        try await Task.sleep(for: .milliseconds(500))
        let reads = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask { _ = try await store.sessionIdentity(try #require(SessionIDHash(bytes: Array(repeating: UInt8(index), count: 32)))) }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(800))
        let waiting = try cluster.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", database: database
        )
        #expect(waiting == "2", "reads waiting on the lock at the server: \(waiting)")
        try await reads.value
    }

    @Test("a store used before its service runs waits for it, without postgres-nio's warning")
    func usedBeforeRunning() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let logs = LogRecorder()
        let store = PostgresStore(url: try PostgresURL(parsing: try cluster.createDatabase()), logger: logs.logger("store", level: .warning))
        // The first query is issued before run(): it waits instead of leasing from a pool that is not running.
        async let migrated: Void = store.migrate()
        try await Task.sleep(for: .milliseconds(100))
        let task = Task { await store.run() }
        try await migrated
        #expect(try await store.hasSchema())
        task.cancel()
        await task.value
        #expect(logs.all.filter { $0.message.contains("run()") }.isEmpty, "\(logs.all.map(\.message))")
    }

    /// postgres-nio does not give up a query when its task is cancelled: on a server that hangs
    /// (its processes stopped, the sockets open) the query waited for ever, and with it every
    /// deadline built on cancellation. The store closes the connection instead.
    @Test("on a hung server a cancelled read or transaction ends at once; the store answers again once the server does")
    func cancelledOnHungServer() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let running = try await Running(url: try cluster.createDatabase())
        let store = running.store
        _ = try await store.latestAuditSequence()
        try cluster.freeze()
        let operations: [(String, @Sendable () async throws -> Void)] = [
            ("read", { _ = try await store.latestAuditSequence() }),
            ("transaction", { _ = try await store.sharedSecret(named: "hung-test") { [1, 2, 3] } }),
        ]
        var tasks: [Task<Void, any Error>] = []
        for (name, operation) in operations {
            let finished = Flag()
            let task = Task {
                defer { finished.raise() }
                try await operation()
            }
            tasks.append(task)
            try await Task.sleep(for: .milliseconds(500))
            task.cancel()
            // Waited for by polling, not by awaiting the task: one that does not end must fail
            // the test, not hang it.
            let cancelled = ContinuousClock.now
            while !finished.isRaised, ContinuousClock.now - cancelled < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(finished.isRaised, "the cancelled \(name) still waits on the hung server")
            if finished.isRaised {
                await #expect(throws: (any Error).self, "\(name) on a hung server") { try await task.value }
            }
        }
        try cluster.thaw()
        for task in tasks { _ = await task.result }
        var answered: Duration?
        let thawed = ContinuousClock.now
        while answered == nil, ContinuousClock.now - thawed < .seconds(20) {
            if (try? await store.latestAuditSequence()) != nil {
                answered = ContinuousClock.now - thawed
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(answered != nil, "the store never answered after the server resumed")
        #expect(try await store.sharedSecret(named: "hung-test") { [4] } == [4], "the cancelled transaction was rolled back")
        await running.stop()
    }

    /// A connection closed for a cancelled operation goes back to the pool only once closed:
    /// otherwise the pool may hand it to the next caller, whose query then fails at once on a
    /// server that is well.
    @Test("after an operation cancelled mid-query on a healthy server, the next caller's query works")
    func nextCallerAfterCancellation() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let running = try await Running(url: try cluster.createDatabase())
        let store = running.store
        for round in 0..<10 {
            let slow = Task {
                try await store.backend.read { store in
                    _ = try await store.connection.query("SELECT pg_sleep(5)", logger: store.logger)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            slow.cancel()
            _ = await slow.result
            #expect(try await store.latestAuditSequence() == 0, "round \(round)")
        }
        await running.stop()
    }

    final class Flag: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .acquiring) }
        func raise() { raised.store(true, ordering: .releasing) }
    }

    @Test("opened for a command that must not create a store, a database without one is refused and left empty")
    func openWithoutCreating() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        await #expect(throws: OpenedStore.Missing.self) {
            _ = try await OpenedStore.open(.postgres(url: .environment("UNUSED")), secret: { _ in url }, logger: logger, creating: false)
        }
        let opened = try await OpenedStore.open(.postgres(url: .environment("UNUSED")), secret: { _ in url }, logger: logger)
        await opened.close()
        let again = try await OpenedStore.open(.postgres(url: .environment("UNUSED")), secret: { _ in url }, logger: logger, creating: false)
        await again.close()
    }

    @Test("bad URLs are refused with a reason, and the password is never shown")
    func urls() throws {
        let url = try PostgresURL(parsing: "postgres://app:s3cret@db.internal:6543/portcullis?sslmode=require")
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.database == "portcullis")
        #expect(!url.description.contains("s3cret"))
        for bad in ["mysql://a@b/c", "postgres://b/c", "postgres://a@/c", "postgres://a@b", "postgres://a@b/c?sslmode=maybe", "postgres://a@b/c?x=1"] {
            #expect(throws: PostgresURL.ParseError.self, "\(bad)") { try PostgresURL(parsing: bad) }
        }
    }
}
