/// `geoip`: the database file.
extension ConfigurationReader {
    func readGeoIP(_ value: ConfigValue) -> GeoIPConfiguration? {
        guard let map = value.mapping(keys: ["database", "asn_database"]) else { return nil }
        // A missing database is not an error: GeoIP tags read "unknown" and start-up says so once.
        let database = map["database"].map { $0.nonEmptyString("a .mmdb file path").map(resolvePath) }
        let asn = map["asn_database"].map { $0.nonEmptyString("a .mmdb file path").map(resolvePath) }
        if case .some(.none) = database { return nil }
        if case .some(.none) = asn { return nil }
        return GeoIPConfiguration(database: database ?? nil, asnDatabase: asn ?? nil)
    }
}
