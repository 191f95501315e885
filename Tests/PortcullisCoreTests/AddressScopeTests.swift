import PortcullisCore
import Testing

/// Special-purpose ranges read as words where GeoIP has nothing to say.
@Suite("Address scopes")
struct AddressScopeTests {
    @Test("special-purpose ranges", arguments: [
        ("127.0.0.1", AddressScope.loopback), ("127.255.0.9", .loopback), ("::1", .loopback), ("::ffff:127.0.0.1", .loopback),
        ("10.1.2.3", .privateNetwork), ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("192.168.1.20", .privateNetwork), ("fd12:3456::1", .privateNetwork),
        ("169.254.10.1", .linkLocal), ("fe80::1", .linkLocal),
        ("192.0.2.1", .documentation), ("198.51.100.7", .documentation), ("203.0.113.7", .documentation), ("2001:db8::5", .documentation),
    ])
    func special(_ text: String, _ scope: AddressScope) throws {
        #expect(AddressScope(try IPAddress(parsing: text)) == scope)
    }

    @Test("ordinary addresses have none", arguments: ["8.8.8.8", "172.32.0.1", "172.15.255.255", "11.0.0.1", "2a00:1450::1", "100.64.0.1"])
    func ordinary(_ text: String) throws {
        #expect(AddressScope(try IPAddress(parsing: text)) == nil)
    }

    @Test("a GeoIP record wins; without one the range is named; otherwise unknown")
    func summary() throws {
        let berlin = GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin")
        #expect(berlin.summary(for: try IPAddress(parsing: "198.51.100.7")) == "Berlin, Germany")
        #expect(GeoLocation.unknown.summary(for: try IPAddress(parsing: "127.0.0.1")) == "loopback (this machine)")
        #expect(GeoLocation.unknown.summary(for: try IPAddress(parsing: "10.0.0.8")) == "private network")
        #expect(GeoLocation(asn: 64496).summary(for: try IPAddress(parsing: "10.0.0.8")) == "private network")
        #expect(GeoLocation.unknown.summary(for: try IPAddress(parsing: "8.8.8.8")) == "unknown")
    }
}
