/// An IPv4 or IPv6 address held as 128 bits. IPv4 addresses, and IPv4-mapped IPv6 addresses
/// (`::ffff:1.2.3.4`), are one and the same value: the mapped form.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address as an IPv6 number; IPv4 lives in `::ffff:0:0/96`.
    public let value: UInt128

    static let ipv4MappedPrefix: UInt128 = 0xFFFF << 32
    static let ipv4MappedMask: UInt128 = ~UInt128(0xFFFF_FFFF)

    public init(ipv6 value: UInt128) {
        self.value = value
    }

    public init(ipv4 value: UInt32) {
        self.value = Self.ipv4MappedPrefix | UInt128(value)
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(ipv4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// From the 4 or 16 bytes of a socket address, in network order.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            self.init(ipv6: bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
        default:
            return nil
        }
    }

    /// True for IPv4 (and IPv4-mapped IPv6) addresses.
    public var isIPv4: Bool {
        value & Self.ipv4MappedMask == Self.ipv4MappedPrefix
    }

    /// The 32-bit IPv4 value, when this is an IPv4 address.
    public var ipv4: UInt32? {
        isIPv4 ? UInt32(truncatingIfNeeded: value) : nil
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.value < rhs.value
    }

    /// Dotted quad for IPv4, RFC 5952 text for IPv6.
    public var description: String {
        if let v4 = ipv4 {
            // Hand-built: this runs for every request (logs, X-Forwarded-For).
            var bytes: [UInt8] = []
            bytes.reserveCapacity(15)
            for shift in [24, 16, 8, 0] as [UInt32] {
                let octet = UInt8(truncatingIfNeeded: v4 >> shift)
                if octet >= 100 { bytes.append(UInt8(ascii: "0") + octet / 100) }
                if octet >= 10 { bytes.append(UInt8(ascii: "0") + octet / 10 % 10) }
                bytes.append(UInt8(ascii: "0") + octet % 10)
                if shift != 0 { bytes.append(UInt8(ascii: ".")) }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var groups: [UInt16] = []
        for shift in stride(from: 112, through: 0, by: -16) {
            groups.append(UInt16(truncatingIfNeeded: value >> UInt128(shift)))
        }
        // The longest run of two or more zero groups becomes "::" (the first, on a tie).
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength, length >= 2 {
                    bestStart = runStart
                    bestLength = length
                }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension IPAddress {
    /// Parses `192.0.2.1`, `2001:db8::1` or `::ffff:192.0.2.1`. Refuses zone indexes
    /// (`fe80::1%eth0`), shortened IPv4 (`1.2.3`), leading zeros in IPv4 (`010.0.0.1`, which
    /// some parsers read as octal), whitespace, and anything else; the error quotes the input.
    public init(parsing text: some StringProtocol) throws(IPParseError) {
        let string = String(text)
        guard !string.isEmpty else { throw IPParseError(input: string, problem: .empty) }
        guard string.utf8.count <= 64 else { throw IPParseError(input: string, problem: .tooLong) }
        if string.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw IPParseError(input: string, problem: .whitespace)
        }
        if string.contains("%") {
            throw IPParseError(input: string, problem: .zoneIndex)
        }
        if string.contains(":") {
            guard let value = Self.parseIPv6(Array(string.utf8)) else {
                throw IPParseError(input: string, problem: .invalidIPv6)
            }
            self.init(ipv6: value)
        } else {
            guard let value = Self.parseIPv4(Array(string.utf8)[...]) else {
                throw IPParseError(input: string, problem: .invalidIPv4)
            }
            self.init(ipv4: value)
        }
    }

    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var result: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1, leadingZero { return nil }
                if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
                current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || current > 255 { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, octets < 3 else { return nil }
                result = result << 8 | current
                octets += 1
                current = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return result << 8 | current
    }

    static func parseIPv6(_ bytes: [UInt8]) -> UInt128? {
        // Split on "::" at most once.
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var index = 0
        let count = bytes.count
        if count >= 2, bytes[0] == UInt8(ascii: ":") {
            guard bytes[1] == UInt8(ascii: ":") else { return nil }
            sawDoubleColon = true
            index = 2
            if index == count { return 0 }
        }
        var groupsSeen = 0
        while index < count {
            // Read one group, or an embedded IPv4 address at the end.
            var end = index
            while end < count, bytes[end] != UInt8(ascii: ":") { end += 1 }
            let piece = bytes[index..<end]
            if piece.contains(UInt8(ascii: ".")) {
                guard end == count, let v4 = parseIPv4(piece) else { return nil }
                let high = UInt16(truncatingIfNeeded: v4 >> 16), low = UInt16(truncatingIfNeeded: v4)
                if sawDoubleColon { tail += [high, low] } else { head += [high, low] }
                groupsSeen += 2
                index = end
                break
            }
            guard (1...4).contains(piece.count) else { return nil }
            var group: UInt16 = 0
            for byte in piece {
                guard let nibble = hexValue(byte) else { return nil }
                group = group << 4 | UInt16(nibble)
            }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            groupsSeen += 1
            index = end
            if index < count {
                // At a ':'. A second ':' is the "::" shorthand.
                index += 1
                if index < count, bytes[index] == UInt8(ascii: ":") {
                    guard !sawDoubleColon else { return nil }
                    sawDoubleColon = true
                    index += 1
                } else if index == count {
                    return nil  // trailing single ':'
                }
            }
        }
        if sawDoubleColon {
            guard groupsSeen <= 7 else { return nil }
        } else {
            guard groupsSeen == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - groupsSeen) + tail
        return groups.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
