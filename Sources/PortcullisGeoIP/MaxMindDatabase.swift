import CMaxMindDB
import PortcullisCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One memory-mapped MaxMind-format database (`.mmdb`): GeoIP2/GeoLite2 City or ASN, or DB-IP
/// City Lite. The only place with unsafe pointers into libmaxminddb.
///
/// `MMDB_s` lives at a stable heap address for the object's lifetime and is closed exactly once,
/// in `deinit`. After `MMDB_open` it is only read, and libmaxminddb's lookups are safe from any
/// number of threads, hence `@unchecked Sendable`: nothing here mutates after `init`.
public final class MaxMindDatabase: @unchecked Sendable {
    public let path: String
    /// `GeoIP2-City`, `DBIP-City-Lite`, `GeoLite2-ASN`, …
    public let databaseType: String
    /// 4 or 6.
    public let ipVersion: Int
    /// When the database was built, seconds since 1970.
    public let buildEpoch: UInt64

    private let handle: UnsafeMutablePointer<MMDB_s>
    private let paths: LookupPaths

    /// Opens and maps a database. This reads the file's metadata: call it off an event loop.
    public init(path: String) throws(GeoIPError) {
        guard access(path, F_OK) == 0 else {
            throw GeoIPError(code: .fileMissing, path: path, reason: "no such file")
        }
        let handle = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        handle.initialize(to: MMDB_s())
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), handle)
        guard status == MMDB_SUCCESS else {
            handle.deinitialize(count: 1)
            handle.deallocate()
            let reason = String(cString: MMDB_strerror(status))
            let code: GeoIPError.Code = status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR ? .cannotOpen : .corrupt
            throw GeoIPError(code: code, path: path, reason: reason)
        }
        self.path = path
        self.handle = handle
        self.databaseType = handle.pointee.metadata.database_type.map { String(cString: $0) } ?? "unknown"
        self.ipVersion = Int(handle.pointee.metadata.ip_version)
        self.buildEpoch = handle.pointee.metadata.build_epoch
        self.paths = LookupPaths()
    }

    deinit {
        MMDB_close(handle)
        handle.deinitialize(count: 1)
        handle.deallocate()
    }

    /// The record for an address; `.unknown` when there is none or the lookup fails.
    public func locate(_ address: IPAddress) -> GeoLocation {
        var error: Int32 = 0
        var result = withSocketAddress(address) { sockaddr in
            MMDB_lookup_sockaddr(handle, sockaddr, &error)
        }
        guard error == MMDB_SUCCESS, result.found_entry else { return .unknown }
        var location = GeoLocation()
        location.countryCode = string(&result.entry, paths.countryCode) ?? string(&result.entry, paths.registeredCountryCode)
        location.countryName = string(&result.entry, paths.countryName) ?? string(&result.entry, paths.registeredCountryName)
        location.city = string(&result.entry, paths.cityName)
        location.asn = uint32(&result.entry, paths.asn)
        location.organization = string(&result.entry, paths.asOrganization)
        if let latitude = double(&result.entry, paths.latitude), let longitude = double(&result.entry, paths.longitude) {
            location.coordinates = GeoCoordinates(
                latitude: latitude, longitude: longitude, accuracyRadiusKm: uint32(&result.entry, paths.accuracyRadius).map(Double.init)
            )
        }
        return location
    }

    private func string(_ entry: inout MMDB_entry_s, _ path: UnsafePointer<UnsafePointer<CChar>?>) -> String? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path) == MMDB_SUCCESS, data.has_data,
              data.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING), let start = data.utf8_string
        else { return nil }
        // utf8_string is not NUL-terminated: read data_size bytes.
        let bytes = UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self)
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(data.data_size)), as: UTF8.self)
        return text.isEmpty ? nil : text
    }

    private func double(_ entry: inout MMDB_entry_s, _ path: UnsafePointer<UnsafePointer<CChar>?>) -> Double? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path) == MMDB_SUCCESS, data.has_data else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_DOUBLE: return data.double_value
        case MMDB_DATA_TYPE_FLOAT: return Double(data.float_value)
        default: return nil
        }
    }

    private func uint32(_ entry: inout MMDB_entry_s, _ path: UnsafePointer<UnsafePointer<CChar>?>) -> UInt32? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path) == MMDB_SUCCESS, data.has_data else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_UINT32: return data.uint32
        case MMDB_DATA_TYPE_UINT16: return UInt32(data.uint16)
        default: return nil
        }
    }

    private func withSocketAddress<T>(_ address: IPAddress, _ body: (UnsafePointer<sockaddr>) -> T) -> T {
        if let v4 = address.ipv4 {
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_addr.s_addr = v4.bigEndian
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
            }
        }
        var storage = sockaddr_in6()
        storage.sin6_family = sa_family_t(AF_INET6)
        withUnsafeMutableBytes(of: &storage.sin6_addr) { raw in
            for index in 0..<16 {
                raw[index] = UInt8(truncatingIfNeeded: address.value >> UInt128(8 * (15 - index)))
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }
}

/// NULL-terminated lookup paths for `MMDB_aget_value`, built once per database.
private final class LookupPaths {
    let countryCode: UnsafePointer<UnsafePointer<CChar>?>
    let countryName: UnsafePointer<UnsafePointer<CChar>?>
    let registeredCountryCode: UnsafePointer<UnsafePointer<CChar>?>
    let registeredCountryName: UnsafePointer<UnsafePointer<CChar>?>
    let cityName: UnsafePointer<UnsafePointer<CChar>?>
    let asn: UnsafePointer<UnsafePointer<CChar>?>
    let asOrganization: UnsafePointer<UnsafePointer<CChar>?>
    let latitude: UnsafePointer<UnsafePointer<CChar>?>
    let longitude: UnsafePointer<UnsafePointer<CChar>?>
    let accuracyRadius: UnsafePointer<UnsafePointer<CChar>?>
    private var allocations: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init() {
        var allocations: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
        var strings: [UnsafeMutablePointer<CChar>] = []
        func make(_ components: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
            let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: components.count + 1)
            for (index, component) in components.enumerated() {
                let utf8 = Array(component.utf8CString)
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
                copy.initialize(from: utf8, count: utf8.count)
                strings.append(copy)
                array[index] = UnsafePointer(copy)
            }
            array[components.count] = nil
            allocations.append(array)
            return UnsafePointer(array)
        }
        countryCode = make(["country", "iso_code"])
        countryName = make(["country", "names", "en"])
        registeredCountryCode = make(["registered_country", "iso_code"])
        registeredCountryName = make(["registered_country", "names", "en"])
        cityName = make(["city", "names", "en"])
        asn = make(["autonomous_system_number"])
        asOrganization = make(["autonomous_system_organization"])
        latitude = make(["location", "latitude"])
        longitude = make(["location", "longitude"])
        accuracyRadius = make(["location", "accuracy_radius"])
        self.allocations = allocations
        self.strings = strings
    }

    deinit {
        for string in strings { string.deallocate() }
        for array in allocations { array.deallocate() }
    }
}
