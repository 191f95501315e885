import PortcullisCore

/// A GeoIP stand-in for pure tests of the policy: answers from a fixed table of ranges. The
/// real libmaxminddb lookups are tested against the committed `.mmdb` fixtures.
public struct StaticGeoIPResolver: GeoIPResolver {
    public let table: [(IPRange, GeoLocation)]

    public init(_ table: [(IPRange, GeoLocation)]) {
        self.table = table
    }

    /// The same ranges as the `.mmdb` fixtures.
    public static let documentationRanges = StaticGeoIPResolver([
        (IPRange.literal("192.0.2.0/24"), GeoLocation(countryCode: "US", countryName: "United States", city: "New York")),
        (IPRange.literal("198.51.100.0/24"), GeoLocation(countryCode: "DE", countryName: "Germany", city: "Berlin")),
        (IPRange.literal("203.0.113.0/24"), GeoLocation(countryCode: "AU", countryName: "Australia", city: "Sydney")),
        (IPRange.literal("2001:db8::/32"), GeoLocation(countryCode: "JP", countryName: "Japan", city: "Tokyo")),
    ])

    public func locate(_ address: IPAddress) -> GeoLocation {
        table.first { $0.0.contains(address) }?.1 ?? .unknown
    }
}

extension IPRange {
    /// For literals in tests only: a bad literal is a bug in the test, reported loudly.
    public static func literal(_ text: String) -> IPRange {
        do {
            return try IPRange(parsing: text)
        } catch {
            preconditionFailure("bad range literal in a test: \(error)")
        }
    }
}

extension IPAddress {
    /// For literals in tests only.
    public static func literal(_ text: String) -> IPAddress {
        do {
            return try IPAddress(parsing: text)
        } catch {
            preconditionFailure("bad address literal in a test: \(error)")
        }
    }
}
