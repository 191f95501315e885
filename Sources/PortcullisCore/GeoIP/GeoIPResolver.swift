/// Looks addresses up in a GeoIP database. Lookups are synchronous reads of memory-mapped
/// data: no I/O beyond page faults, safe on an event loop.
public protocol GeoIPResolver: Sendable {
    /// `.unknown` when the database has no record for the address.
    func locate(_ address: IPAddress) -> GeoLocation
}

/// For deployments without a database: every address is unknown.
public struct NoGeoIPResolver: GeoIPResolver {
    public init() {}
    public func locate(_ address: IPAddress) -> GeoLocation { .unknown }
}
