/// What GeoIP knows about an address. Every field is optional: databases differ (DB-IP City
/// Lite has no ASN) and many addresses have no record at all.
public struct GeoLocation: Hashable, Sendable, Codable {
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    public var countryCode: String?
    /// English name, e.g. `Germany`.
    public var countryName: String?
    public var city: String?
    /// Autonomous system number.
    public var asn: UInt32?
    /// The organisation owning the AS.
    public var organization: String?
    /// Latitude, longitude and accuracy radius, when the database has them (for
    /// `impossible_travel`).
    public var coordinates: GeoCoordinates?

    public init(
        countryCode: String? = nil,
        countryName: String? = nil,
        city: String? = nil,
        asn: UInt32? = nil,
        organization: String? = nil,
        coordinates: GeoCoordinates? = nil
    ) {
        self.countryCode = countryCode
        self.countryName = countryName
        self.city = city
        self.asn = asn
        self.organization = organization
        self.coordinates = coordinates
    }

    /// No record: the "unknown" location.
    public static let unknown = GeoLocation()

    public var isUnknown: Bool { self == .unknown }

    /// `Berlin, Germany`, `Germany`, or `unknown`.
    public var summary: String {
        switch (city, countryName ?? countryCode) {
        case (let city?, let country?): "\(city), \(country)"
        case (nil, let country?): country
        case (let city?, nil): city
        case (nil, nil): "unknown"
        }
    }

    enum CodingKeys: String, CodingKey {
        case countryCode = "country_code"
        case countryName = "country"
        case city
        case asn
        case organization
        case coordinates
    }
}

extension GeoLocation {
    /// Where an address is, in words: the GeoIP record when there is one, else the name of its
    /// special-purpose range (`loopback (this machine)`, `private network`), else `unknown`.
    public func summary(for address: IPAddress) -> String {
        if city == nil, countryName == nil, countryCode == nil, let scope = AddressScope(address) { return scope.summary }
        return summary
    }
}
