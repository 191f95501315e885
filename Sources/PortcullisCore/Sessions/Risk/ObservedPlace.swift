/// Where a session was seen, as coarse as the signals allow: the country, the city, the
/// coordinates rounded to a tenth of a degree with the database's accuracy radius, and the
/// network (ASN). No address, no organisation name: this is what the session history keeps.
public struct ObservedPlace: Hashable, Sendable, Codable {
    /// ISO 3166-1 alpha-2, e.g. `AU`.
    public var countryCode: String?
    public var city: String?
    public var coordinates: GeoCoordinates?
    /// Autonomous system number.
    public var asn: UInt32?

    public init(countryCode: String? = nil, city: String? = nil, coordinates: GeoCoordinates? = nil, asn: UInt32? = nil) {
        self.countryCode = countryCode
        self.city = city
        self.coordinates = coordinates?.coarsened
        self.asn = asn
    }

    /// The coarse part of a GeoIP answer.
    public init(_ location: GeoLocation) {
        self.init(countryCode: location.countryCode, city: location.city, coordinates: location.coordinates, asn: location.asn)
    }

    /// Nothing is known about it: it never raises a flag by itself.
    public var isUnknown: Bool { countryCode == nil && city == nil && coordinates == nil && asn == nil }

    /// `Sydney, AU`, `AU`, `Sydney`, or `an unknown place`.
    public var summary: String {
        switch (city, countryCode) {
        case (let city?, let country?): "\(city), \(country)"
        case (nil, let country?): country
        case (let city?, nil): city
        case (nil, nil): asn.map { "AS\($0)" } ?? "an unknown place"
        }
    }

    /// The summary with the network: `Sydney, AU (AS64498)`.
    public var summaryWithNetwork: String {
        guard let asn, city != nil || countryCode != nil else { return summary }
        return "\(summary) (AS\(asn))"
    }

    enum CodingKeys: String, CodingKey {
        case countryCode = "country_code"
        case city, coordinates, asn
    }
}
