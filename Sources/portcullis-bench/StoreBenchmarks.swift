import Foundation
import Logging
import PortcullisCore
import PortcullisStore

/// The store on the request path, on both databases: what the data path reads when a session
/// or token is not in its cache. Each operation is timed one call at a time (wall µs per call,
/// and this process's CPU µs per call) and 16 at once (calls per second):
///   portcullis-bench store [--sqlite FILE] [--postgres URL] [--rounds N]
/// The store holds 2,000 users in 3 of 60 groups each (20 groups map roles), 2 sessions and one
/// API token per user; lookups pick sessions and users at random. A store filled before (by
/// this or another build: the schema is the same) is used as it is, so that two builds can be
/// measured in turns on the same data (bench/store does). Each figure is the median of the
/// rounds; one line per backend and operation, tab-separated.
enum StoreBenchmarks {
    static let users = 2_000
    static let groups = 60

    static func run(_ arguments: ArraySlice<String>) async throws {
        var arguments = arguments
        var sqlitePath: String?
        var postgresURL: String?
        var rounds = 7
        while let argument = arguments.popFirst() {
            switch argument {
            case "--sqlite": sqlitePath = arguments.popFirst()
            case "--postgres": postgresURL = arguments.popFirst()
            case "--rounds": rounds = arguments.popFirst().flatMap(Int.init) ?? rounds
            default: throw Usage(description: "unknown argument \(argument)")
            }
        }
        guard sqlitePath != nil || postgresURL != nil else {
            throw Usage(description: "usage: portcullis-bench store [--sqlite FILE] [--postgres URL] [--rounds N]")
        }
        if let sqlitePath {
            try await measure(try SQLiteStore(path: sqlitePath), name: "sqlite", rounds: rounds)
        }
        if let postgresURL {
            var logger = Logger(label: "bench.store")
            logger.logLevel = .error
            let postgres = PostgresStore(url: try PostgresURL(parsing: postgresURL), logger: logger)
            let running = Task { await postgres.run() }
            try await postgres.migrate()
            try await measure(postgres, name: "postgres", rounds: rounds)
            running.cancel()
            await running.value
        }
    }

    struct Usage: Error, CustomStringConvertible {
        let description: String
    }

    static func measure(_ store: any GatewayStore, name: String, rounds: Int) async throws {
        let fixture = try await Fixture.prepare(store)
        var generator = SplitMix64(seed: 11)
        let operations: [(String, @Sendable (UInt64) async throws -> Bool)] = [
            ("session(_:)", { try await store.session(fixture.session($0)) != nil }),
            ("sessionIdentity(_:)", { try await store.sessionIdentity(fixture.session($0)) != nil }),
            ("userIdentity(userID:)", { try await store.userIdentity(userID: fixture.user($0)) != nil }),
            ("apiTokenIdentity(secretHash:)", { try await store.apiTokenIdentity(secretHash: fixture.token($0)) != nil }),
        ]
        for (operation, call) in operations {
            var walls: [Double] = []
            var cpus: [Double] = []
            var throughputs: [Double] = []
            for _ in 0..<rounds {
                let (wall, cpu) = try await sequential(count: 2_000, &generator, call)
                walls.append(wall)
                cpus.append(cpu)
                throughputs.append(try await concurrent(count: 4_000, width: 16, seed: generator.next(), call))
            }
            print([name, operation, format(median(walls)), format(median(cpus)), String(format: "%.0f", median(throughputs))].joined(separator: "\t"))
        }
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    /// Wall and CPU µs per call, one call at a time.
    static func sequential(
        count: Int, _ generator: inout SplitMix64, _ call: @Sendable (UInt64) async throws -> Bool
    ) async throws -> (wall: Double, cpu: Double) {
        let picks = (0..<count).map { _ in generator.next() }
        let cpuStart = processCPUSeconds()
        let start = ContinuousClock.now
        for pick in picks {
            guard try await call(pick) else { throw Usage(description: "a lookup found nothing") }
        }
        let wall = (ContinuousClock.now - start).secondsValue
        let cpu = processCPUSeconds() - cpuStart
        return (wall * 1e6 / Double(count), cpu * 1e6 / Double(count))
    }

    /// Calls per second, `width` at a time.
    static func concurrent(count: Int, width: Int, seed: UInt64, _ call: @escaping @Sendable (UInt64) async throws -> Bool) async throws -> Double {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<width {
                group.addTask {
                    var generator = SplitMix64(seed: seed &+ UInt64(lane))
                    for _ in 0..<(count / width) {
                        guard try await call(generator.next()) else { throw Usage(description: "a lookup found nothing") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(count) / (ContinuousClock.now - start).secondsValue
    }

    /// User and system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }

    /// The users, sessions and tokens the lookups pick from.
    struct Fixture: Sendable {
        var sessions: [SessionIDHash] = []
        var userIDs: [String] = []
        var tokenHashes: [[UInt8]] = []

        func session(_ pick: UInt64) -> SessionIDHash { sessions[Int(pick % UInt64(sessions.count))] }
        func user(_ pick: UInt64) -> String { userIDs[Int(pick % UInt64(userIDs.count))] }
        func token(_ pick: UInt64) -> [UInt8] { tokenHashes[Int(pick % UInt64(tokenHashes.count))] }

        /// Fills the store, or finds what an earlier run filled it with (the same values come
        /// from the same seed).
        static func prepare(_ store: any GatewayStore) async throws -> Fixture {
            let filled = try await store.user(subject: "subject-0") != nil
            let now = Date()
            let audit = AuditContext(actor: "bench@example.com", actorIsSuperAdmin: true, sourceIP: nil, at: now)
            if !filled {
                for index in 0..<20 {
                    _ = try await store.changeGroupRoles(name: "group-\(index)", source: .oidc, audit: audit) { _ in
                        .success(RoleAssignment(primary: index == 0 ? .admin : .member, secondary: [.answersModerator]))
                    }
                }
            }
            let address = try IPAddress(parsing: "198.51.100.7")
            var generator = SplitMix64(seed: 3)
            var fixture = Fixture()
            for index in 0..<StoreBenchmarks.users {
                let memberships = (0..<3).map { _ in "group-\(generator.next() % UInt64(StoreBenchmarks.groups))" }
                let profile = LoginProfile(
                    subject: "subject-\(index)", email: "user\(index)@example.com", name: "User \(index)", department: "Bench", groups: memberships
                )
                let user = filled ? try await store.user(subject: profile.subject) : try await store.recordLogin(profile, at: now)
                guard let user else { throw Usage(description: "the store holds another fixture: remove it") }
                fixture.userIDs.append(user.id)
                for _ in 0..<2 {
                    let bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                    guard let hash = SessionIDHash(bytes: bytes) else { continue }
                    if !filled {
                        try await store.insertSession(SessionRecord(
                            idHash: hash, userID: user.id, createdAt: now, lastSeenAt: now, absoluteExpiresAt: now.addingTimeInterval(365 * 86_400),
                            createdIP: address, lastIP: address,
                            createdLocation: GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin"),
                            lastLocation: GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin"),
                            userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", device: DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop),
                            authMethod: .oidc, idpSessionID: "sid-\(index)", amr: ["pwd"], acr: nil, mfa: false
                        ))
                    }
                    fixture.sessions.append(hash)
                }
                let secret = (0..<32).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                if !filled {
                    try await store.insertAPIToken(
                        APITokenRecord(
                            id: "token-\(index)", ownerID: user.id, name: "bench", scope: .user, displayPrefix: "pc_bench",
                            createdAt: now, createdBy: "bench@example.com", expiresAt: nil
                        ),
                        secretHash: secret, audit: audit
                    )
                }
                fixture.tokenHashes.append(secret)
            }
            return fixture
        }
    }
}
