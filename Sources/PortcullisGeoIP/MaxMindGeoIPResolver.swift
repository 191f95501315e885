import PortcullisCore
import Synchronization

/// The GeoIP resolver the gateway uses: a City database and an optional ASN database, either
/// of which may be absent (then its fields read unknown). ``replace(city:asn:)`` swaps in
/// reloaded databases; lookups in flight keep the old ones alive until they finish.
public final class MaxMindGeoIPResolver: GeoIPResolver {
    private struct Databases: Sendable {
        var city: MaxMindDatabase?
        var asn: MaxMindDatabase?
    }

    private let databases: Mutex<Databases>

    public init(city: MaxMindDatabase?, asn: MaxMindDatabase? = nil) {
        databases = Mutex(Databases(city: city, asn: asn))
    }

    /// Opens the configured files. A missing file is not an error (its fields read unknown);
    /// a corrupt one is. Blocking file I/O: call it off an event loop.
    public static func open(cityPath: String?, asnPath: String?) throws(GeoIPError) -> (MaxMindGeoIPResolver, [GeoIPError]) {
        var notices: [GeoIPError] = []
        func load(_ path: String?) throws(GeoIPError) -> MaxMindDatabase? {
            guard let path else { return nil }
            do {
                return try MaxMindDatabase(path: path)
            } catch where error.code == .fileMissing {
                notices.append(error)
                return nil
            }
        }
        let city = try load(cityPath)
        let asn = try load(asnPath)
        return (MaxMindGeoIPResolver(city: city, asn: asn), notices)
    }

    public func replace(city: MaxMindDatabase?, asn: MaxMindDatabase?) {
        databases.withLock { $0 = Databases(city: city, asn: asn) }
    }

    public var cityDatabase: MaxMindDatabase? { databases.withLock { $0.city } }
    public var asnDatabase: MaxMindDatabase? { databases.withLock { $0.asn } }

    public func locate(_ address: IPAddress) -> GeoLocation {
        let current = databases.withLock { $0 }
        var location = current.city?.locate(address) ?? .unknown
        if let asnDatabase = current.asn {
            let asn = asnDatabase.locate(address)
            location.asn = asn.asn ?? location.asn
            location.organization = asn.organization ?? location.organization
        }
        return location
    }
}
