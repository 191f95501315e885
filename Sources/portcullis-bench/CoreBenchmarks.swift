import Foundation
import PortcullisCore
import PortcullisGeoIP

/// Prints ns per operation for the request-path pieces of the core:
///   portcullis-bench [--geoip FILE]...
/// Each figure is the median of 7 rounds; a checksum keeps the optimiser honest.
enum CoreBenchmarks {
    static func run(_ arguments: ArraySlice<String>) throws {
        var geoipFiles: [String] = []
        var arguments = arguments
        while let argument = arguments.popFirst() {
            if argument == "--geoip", let file = arguments.popFirst() { geoipFiles.append(file) }
        }
        var generator = SplitMix64(seed: 7)
        print("benchmark                                      ns/op   target")
        benchmarkEvaluate(&generator)
        benchmarkGreenlist(&generator)
        for file in geoipFiles {
            try benchmarkGeoIP(file, &generator)
        }
    }

    /// Runs `body` over `count` iterations per round and prints the median ns per iteration.
    static func measure(_ name: String, target: String, count: Int, _ body: (Int) -> UInt64) {
        var rounds: [Double] = []
        var checksum: UInt64 = 0
        _ = body(min(count, 10_000))  // warm-up
        for _ in 0..<7 {
            let start = ContinuousClock.now
            checksum &+= body(count)
            let elapsed = ContinuousClock.now - start
            rounds.append(elapsed.secondsValue * 1e9 / Double(count))
        }
        rounds.sort()
        let median = rounds[rounds.count / 2]
        let padded = name.padding(toLength: 44, withPad: " ", startingAt: 0)
        print("\(padded) \(String(format: "%7.1f", median))   \(target)   (checksum \(checksum % 1000))")
    }

    static func benchmarkEvaluate(_ generator: inout SplitMix64) {
        let upstream = Upstream(scheme: .http, host: "127.0.0.1", port: 8080)
        var routes: [Route] = []
        for index in 0..<20 {
            routes.append(Route(name: "r\(index)", prefix: ["section\(index)", "page"], target: .upstream(upstream), requirement: .authenticated))
        }
        routes.append(Route(name: "teammates", prefix: ["admin", "teammates"], target: .upstream(upstream), requirement: .permission(.teammatesView)))
        routes.append(Route(name: "app", prefix: [], target: .upstream(upstream), requirement: .authenticated))
        var entries: [Greenlist.Entry] = []
        for _ in 0..<200 {
            let network = IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next()))
            entries.append(Greenlist.Entry(range: IPRange(network: network, prefixLength128: 120), label: "site"))
        }
        entries.append(Greenlist.Entry(range: IPRange(network: IPAddress(ipv4: 198, 51, 100, 0), prefixLength128: 120), label: "office"))
        let policy = AccessPolicy(
            routes: RouteTable(routes: routes),
            greenlists: ["corp": Greenlist(name: "corp", entries: entries)],
            tenantGreenlist: "corp"
        )
        let role = EffectiveRole(primary: .admin, secondary: [.agentCreator])
        let user = AuthenticatedUser(
            userID: "u", email: "admin@example.com", role: role, permissions: role.permissions(defaults: .allOn),
            method: .oidc, expiresAt: Date(timeIntervalSince1970: 2_000_000_000)
        )
        let request = AccessRequest(
            method: "GET", host: "localhost:8443", target: "/admin/teammates/42?tab=sessions",
            client: IPAddress(ipv4: 198, 51, 100, 7), identity: .user(user)
        )
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        measure("evaluate(): signed-in user, permission route", target: "< 2000", count: 300_000) { count in
            var sum: UInt64 = 0
            for _ in 0..<count {
                let decision = policy.evaluate(request, now: now)
                sum &+= decision.isAllowed ? 1 : 0
            }
            return sum
        }
    }

    static func benchmarkGreenlist(_ generator: inout SplitMix64) {
        var entries: [Greenlist.Entry] = []
        for index in 0..<10_000 {
            if index % 4 == 0 {
                let network = IPAddress(ipv6: UInt128(generator.next()) << 64)
                entries.append(Greenlist.Entry(range: IPRange(network: network, prefixLength128: 48), label: "v6"))
            } else {
                let network = IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next()))
                entries.append(Greenlist.Entry(range: IPRange(network: network, prefixLength128: 96 + 16 + Int(generator.next() % 17)), label: "v4"))
            }
        }
        let list = Greenlist(name: "big", entries: entries)
        let probes = (0..<4_096).map { index -> IPAddress in
            index % 2 == 0
                ? entries[Int(generator.next() % UInt64(entries.count))].range.first
                : IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next()))
        }
        measure("greenlist lookup, 10,000 CIDRs", target: "<  200", count: 2_000_000) { count in
            var sum: UInt64 = 0
            for index in 0..<count where list.contains(probes[index & 4_095]) {
                sum &+= 1
            }
            return sum
        }
    }

    static func benchmarkGeoIP(_ file: String, _ generator: inout SplitMix64) throws {
        let database = try MaxMindDatabase(path: file)
        let probes = (0..<65_536).map { _ in IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next())) }
        let name = "GeoIP lookup, \(URL(fileURLWithPath: file).lastPathComponent)"
        measure(name, target: "< 2000", count: 500_000) { count in
            var sum: UInt64 = 0
            for index in 0..<count {
                let location = database.locate(probes[index & 65_535])
                sum &+= UInt64(location.city?.utf8.count ?? 0)
            }
            return sum
        }
    }
}

struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
