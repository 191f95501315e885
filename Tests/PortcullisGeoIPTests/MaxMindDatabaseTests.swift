import Foundation
import PortcullisCore
import PortcullisGeoIP
import PortcullisTestSupport
import Testing

@Suite("GeoIP lookups in real .mmdb files")
struct MaxMindDatabaseTests {
    @Test("the City fixture answers the documentation ranges", arguments: [
        ("192.0.2.1", "US", "United States", "New York"),
        ("192.0.2.255", "US", "United States", "New York"),
        ("198.51.100.7", "DE", "Germany", "Berlin"),
        ("203.0.113.7", "AU", "Australia", "Sydney"),
        ("2001:db8::1", "JP", "Japan", "Tokyo"),
        ("2001:db8:ffff::1", "JP", "Japan", "Tokyo"),
        ("::ffff:198.51.100.7", "DE", "Germany", "Berlin"),
    ])
    func cities(_ ip: String, _ code: String, _ country: String, _ city: String) throws {
        let database = try MaxMindDatabase(path: FixturePaths.testCityDatabase)
        let location = database.locate(.literal(ip))
        #expect(location.countryCode == code)
        #expect(location.countryName == country)
        #expect(location.city == city)
        #expect(location.asn == nil)
    }

    /// Issue 28 item 3: a database left in place for months decides country rules on old data;
    /// past 60 days the gateway warns (at start-up and on reload) with what to do.
    @Test("a database older than 60 days gets a warning naming the file, its build day, its age and what to do; a fresh one none")
    func staleness() throws {
        let database = try MaxMindDatabase(path: FixturePaths.testCityDatabase)
        let built = GeoIPFreshness.builtAt(database)
        #expect(database.buildEpoch > 1_600_000_000, "the fixture's build_epoch: \(database.buildEpoch)")
        #expect(GeoIPFreshness.warning(for: database, now: built.addingTimeInterval(59 * 86_400)) == nil)
        let warning = try #require(GeoIPFreshness.warning(for: database, now: built.addingTimeInterval(61 * 86_400)))
        #expect(warning.contains(FixturePaths.testCityDatabase))
        #expect(warning.contains("61 days ago"))
        #expect(warning.contains(built.formatted(.iso8601.year().month().day())))
        #expect(warning.contains("GeoIP data ages"))
    }

    @Test("no record is unknown", arguments: ["8.8.8.8", "192.0.3.1", "2001:db9::1", "::1", "0.0.0.0"])
    func unknown(_ ip: String) throws {
        let database = try MaxMindDatabase(path: FixturePaths.testCityDatabase)
        #expect(database.locate(.literal(ip)) == .unknown)
    }

    @Test("a record with a country and no city")
    func countryOnly() throws {
        let database = try MaxMindDatabase(path: FixturePaths.testCityDatabase)
        let location = database.locate(.literal("100.64.1.1"))
        #expect(location.countryCode == "NL")
        #expect(location.city == nil)
        #expect(location.summary == "Netherlands")
    }

    @Test("metadata is read")
    func metadata() throws {
        let database = try MaxMindDatabase(path: FixturePaths.testCityDatabase)
        #expect(database.databaseType == "Portcullis-Test-City")
        #expect(database.ipVersion == 6)
        #expect(database.buildEpoch > 0)
    }

    @Test("City and ASN databases combine")
    func combined() throws {
        let resolver = MaxMindGeoIPResolver(
            city: try MaxMindDatabase(path: FixturePaths.testCityDatabase),
            asn: try MaxMindDatabase(path: FixturePaths.testASNDatabase)
        )
        let location = resolver.locate(.literal("198.51.100.7"))
        #expect(location == GeoLocation(
            countryCode: "DE", countryName: "Germany", city: "Berlin", asn: 64_497, organization: "Example Carrier Berlin",
            coordinates: GeoCoordinates(latitude: 52.52, longitude: 13.405, accuracyRadiusKm: 20)
        ))
        #expect(resolver.locate(.literal("2001:db8::9")).asn == 64_499)
    }

    @Test("latitude, longitude and accuracy radius are read, for IPv4 and IPv6; a record without them has none")
    func coordinates() throws {
        let resolver = MaxMindGeoIPResolver(city: try MaxMindDatabase(path: FixturePaths.testCityDatabase))
        let sydney = try #require(resolver.locate(.literal("203.0.113.7")).coordinates)
        #expect(abs(sydney.latitude - -33.8688) < 0.0001)
        #expect(abs(sydney.longitude - 151.2093) < 0.0001)
        #expect(sydney.accuracyRadiusKm == 20)
        #expect(resolver.locate(.literal("2001:db8::1")).coordinates?.accuracyRadiusKm == 50)
        // Country only: no place on the globe.
        #expect(resolver.locate(.literal("100.64.0.1")).coordinates == nil)
        #expect(resolver.locate(.literal("100.64.0.1")).countryCode == "NL")
    }

    @Test("a missing file is a clear error, and a missing configured file is only a notice")
    func missingFile() throws {
        #expect(throws: GeoIPError.self) { try MaxMindDatabase(path: "/nonexistent/geo.mmdb") }
        do {
            _ = try MaxMindDatabase(path: "/nonexistent/geo.mmdb")
        } catch {
            #expect(error.code == .fileMissing)
            #expect(error.description.contains("/nonexistent/geo.mmdb"))
        }
        let (resolver, notices) = try MaxMindGeoIPResolver.open(cityPath: "/nonexistent/geo.mmdb", asnPath: nil)
        #expect(notices.count == 1)
        #expect(resolver.locate(.literal("198.51.100.7")) == .unknown)
    }

    @Test("a corrupt file is a clear error", arguments: [Data(), Data(repeating: 0xAB, count: 4_096), Data("not a database".utf8)])
    func corruptFile(_ contents: Data) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString).mmdb").path
        try contents.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try MaxMindDatabase(path: path)
            Issue.record("opened a corrupt database")
        } catch {
            #expect(error.code == .corrupt || error.code == .cannotOpen)
            #expect(error.description.contains(path))
        }
    }

    @Test("a truncated database is refused or answers unknown, never crashes")
    func truncatedFile() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.testCityDatabase))
        for length in stride(from: 16, to: original.count, by: 97) {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("trunc-\(UUID().uuidString).mmdb").path
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            if let database = try? MaxMindDatabase(path: path) {
                _ = database.locate(.literal("198.51.100.7"))
                _ = database.locate(.literal("2001:db8::1"))
            }
        }
    }

    @Test("replacing the database swaps answers for new lookups")
    func reload() throws {
        let resolver = MaxMindGeoIPResolver(city: nil)
        #expect(resolver.locate(.literal("203.0.113.7")) == .unknown)
        resolver.replace(city: try MaxMindDatabase(path: FixturePaths.testCityDatabase), asn: nil)
        #expect(resolver.locate(.literal("203.0.113.7")).city == "Sydney")
    }

    @Test("lookups from many threads at once agree")
    func concurrentLookups() async throws {
        let resolver = MaxMindGeoIPResolver(city: try MaxMindDatabase(path: FixturePaths.testCityDatabase))
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    for _ in 0..<2_000 {
                        let berlin = resolver.locate(.literal("198.51.100.\(index)"))
                        if berlin.city != "Berlin" { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
