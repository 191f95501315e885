/// Address ranges that no GeoIP database places, named for people: a session from 127.0.0.1
/// is on "loopback (this machine)", not in "unknown" (RFC 6890's special-purpose registries).
public enum AddressScope: String, Hashable, Sendable, CaseIterable, Codable {
    case loopback
    case privateNetwork = "private_network"
    case linkLocal = "link_local"
    case documentation

    /// The scope of a special-purpose address; `nil` for an ordinary one.
    public init?(_ address: IPAddress) {
        guard let match = Self.ranges.first(where: { $0.range.contains(address) }) else { return nil }
        self = match.scope
    }

    /// How the range reads in the console and the command line.
    public var summary: String {
        switch self {
        case .loopback: "loopback (this machine)"
        case .privateNetwork: "private network"
        case .linkLocal: "link-local network"
        case .documentation: "documentation range"
        }
    }

    private static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ length: Int) -> IPRange {
        IPRange(network: IPAddress(ipv4: a, b, c, d), prefixLength128: 96 + length)
    }

    private static func ipv6(_ high: UInt16, _ length: Int, low: UInt128 = 0) -> IPRange {
        IPRange(network: IPAddress(ipv6: UInt128(high) << 112 | low), prefixLength128: length)
    }

    private static let ranges: [(range: IPRange, scope: AddressScope)] = [
        (ipv4(127, 0, 0, 0, 8), .loopback),
        (IPRange(address: IPAddress(ipv6: 1)), .loopback),
        (ipv4(10, 0, 0, 0, 8), .privateNetwork),
        (ipv4(172, 16, 0, 0, 12), .privateNetwork),
        (ipv4(192, 168, 0, 0, 16), .privateNetwork),
        (ipv6(0xFC00, 7), .privateNetwork),
        (ipv4(169, 254, 0, 0, 16), .linkLocal),
        (ipv6(0xFE80, 10), .linkLocal),
        (ipv4(192, 0, 2, 0, 24), .documentation),
        (ipv4(198, 51, 100, 0, 24), .documentation),
        (ipv4(203, 0, 113, 0, 24), .documentation),
        (ipv6(0x2001, 32, low: UInt128(0x0DB8) << 96), .documentation),
    ]
}
