/// A CIDR range such as `198.51.100.0/24` or `2001:db8::/32`. IPv4 ranges are held in their
/// IPv4-mapped IPv6 form, so `::ffff:10.0.0.0/104` and `10.0.0.0/8` are the same range.
public struct IPRange: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    /// Prefix length in the 128-bit space (an IPv4 /24 is 120 here).
    public let prefixLength128: Int

    public init(network: IPAddress, prefixLength128: Int) {
        let length = max(0, min(128, prefixLength128))
        self.network = IPAddress(ipv6: network.value & Self.mask(length))
        self.prefixLength128 = length
    }

    /// A single address as a /32 or /128.
    public init(address: IPAddress) {
        self.init(network: address, prefixLength128: 128)
    }

    /// Parses `a.b.c.d/n`, `x::y/n` or a single address. Host bits must be zero
    /// (`10.0.0.1/8` is refused and the error suggests `10.0.0.0/8`).
    public init(parsing text: some StringProtocol) throws(IPParseError) {
        let string = String(text)
        guard let slash = string.firstIndex(of: "/") else {
            self.init(address: try IPAddress(parsing: string))
            return
        }
        let addressText = string[..<slash]
        let lengthText = string[string.index(after: slash)...]
        let address = try IPAddress(parsing: addressText)
        // IPv4-mapped IPv6 text ("::ffff:1.2.3.4/120") is IPv6 notation with a 128-bit prefix.
        let isIPv4Notation = !addressText.contains(":")
        let maximum = isIPv4Notation ? 32 : 128
        guard !lengthText.isEmpty, lengthText.count <= 3, lengthText.allSatisfy(\.isASCII),
              lengthText.allSatisfy(\.isNumber), !(lengthText.count > 1 && lengthText.first == "0"),
              let length = Int(lengthText), length <= maximum
        else {
            throw IPParseError(input: string, problem: .invalidPrefixLength(maximum: maximum))
        }
        let length128 = isIPv4Notation ? 96 + length : length
        let range = IPRange(network: address, prefixLength128: length128)
        guard range.network == address else {
            throw IPParseError(input: string, problem: .hostBitsSet(network: range.description))
        }
        self = range
    }

    public var first: IPAddress { network }

    public var last: IPAddress {
        IPAddress(ipv6: network.value | ~Self.mask(prefixLength128))
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.value & Self.mask(prefixLength128) == network.value
    }

    /// True when this range lies inside the IPv4 space, so it prints as IPv4.
    public var isIPv4: Bool {
        prefixLength128 >= 96 && network.isIPv4
    }

    public var description: String {
        isIPv4 ? "\(network)/\(prefixLength128 - 96)" : "\(network)/\(prefixLength128)"
    }

    static func mask(_ length: Int) -> UInt128 {
        length == 0 ? 0 : ~UInt128(0) << UInt128(128 - length)
    }
}
