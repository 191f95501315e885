#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where GeoIP puts an address on the globe, and how sure the database is: MaxMind's
/// `location.latitude`, `location.longitude` and `location.accuracy_radius`.
public struct GeoCoordinates: Hashable, Sendable, Codable {
    public let latitude: Double
    public let longitude: Double
    /// The radius in kilometres around the point where the address is likely to be; `nil`
    /// when the database gives none (DB-IP City Lite).
    public let accuracyRadiusKm: Double?

    /// The mean radius of the Earth (IUGG), in kilometres.
    public static let earthRadiusKm = 6_371.0088
    /// Coordinates kept in the session history are rounded to a tenth of a degree; a point
    /// moves by at most this much (half a tenth of a degree in both directions, at the equator).
    public static let coarseRoundingKm = 7.9

    /// `nil` for values no database should give: not finite, or off the globe.
    public init?(latitude: Double, longitude: Double, accuracyRadiusKm: Double? = nil) {
        guard latitude.isFinite, longitude.isFinite, (-90.0...90.0).contains(latitude), (-180.0...180.0).contains(longitude)
        else { return nil }
        if let radius = accuracyRadiusKm, !radius.isFinite || radius < 0 { return nil }
        self.latitude = latitude
        self.longitude = longitude
        self.accuracyRadiusKm = accuracyRadiusKm
    }

    /// The great-circle distance (haversine), in kilometres.
    public func distanceKm(to other: GeoCoordinates) -> Double {
        let radians = Double.pi / 180
        let deltaLatitude = (other.latitude - latitude) * radians
        let deltaLongitude = (other.longitude - longitude) * radians
        let a = sin(deltaLatitude / 2) * sin(deltaLatitude / 2)
            + cos(latitude * radians) * cos(other.latitude * radians) * sin(deltaLongitude / 2) * sin(deltaLongitude / 2)
        return 2 * Self.earthRadiusKm * asin(min(1, sqrt(a)))
    }

    /// The same place to a tenth of a degree (about 11 km), as the session history keeps it.
    public var coarsened: GeoCoordinates {
        func round(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        return GeoCoordinates(latitude: round(latitude), longitude: round(longitude), accuracyRadiusKm: accuracyRadiusKm) ?? self
    }

    enum CodingKeys: String, CodingKey {
        case latitude, longitude
        case accuracyRadiusKm = "accuracy_radius_km"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let latitude = try container.decode(Double.self, forKey: .latitude)
        let longitude = try container.decode(Double.self, forKey: .longitude)
        let radius = try container.decodeIfPresent(Double.self, forKey: .accuracyRadiusKm)
        guard let value = GeoCoordinates(latitude: latitude, longitude: longitude, accuracyRadiusKm: radius) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "coordinates off the globe"))
        }
        self = value
    }
}
