/// Paths to the committed test fixtures, found from this file's place in the checkout.
public enum FixturePaths {
    /// The repository's root folder.
    public static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        // …/Sources/PortcullisTestSupport/FixturePaths.swift
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    public static func path(_ relative: String) -> String {
        repositoryRoot + "/Tests/Fixtures/" + relative
    }

    /// The City test database: 192.0.2.0/24 US New York, 198.51.100.0/24 DE Berlin,
    /// 203.0.113.0/24 AU Sydney, 2001:db8::/32 JP Tokyo, 100.64.0.0/10 NL (no city).
    public static let testCityDatabase = path("geoip/portcullis-test-city.mmdb")
    /// The ASN test database for the same ranges (AS64496–AS64499).
    public static let testASNDatabase = path("geoip/portcullis-test-asn.mmdb")
}
