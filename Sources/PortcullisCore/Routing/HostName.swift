/// A request's host, normalised for route matching: lower-case, without the port or a trailing
/// dot. IPv6 literals keep their brackets.
public struct HostName: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public static let maximumLength = 255

    /// Normalises a `Host` header or an authority. Returns `nil` for anything that is not a
    /// plausible host: empty labels, bad characters, a bad port.
    public init?(_ raw: some StringProtocol) {
        let bytes = Array(raw.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumLength else { return nil }
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let inner = String(decoding: bytes[1..<close], as: UTF8.self)
            guard (try? IPAddress(parsing: inner)) != nil else { return nil }
            let rest = bytes[(close + 1)...]
            guard rest.isEmpty || (rest.first == UInt8(ascii: ":") && Self.isPort(rest.dropFirst())) else { return nil }
            value = "[" + inner.lowercased() + "]"
            return
        }
        var end = bytes.count
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            guard Self.isPort(bytes[(colon + 1)...]) else { return nil }
            end = colon
        }
        if end > 0, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > 0 else { return nil }
        var lowered: [UInt8] = []
        lowered.reserveCapacity(end)
        var previous = UInt8(ascii: ".")
        for byte in bytes[..<end] {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                lowered.append(byte + 32)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                lowered.append(byte)
            case UInt8(ascii: "."):
                // No empty labels: "a..b", ".a".
                guard previous != UInt8(ascii: ".") else { return nil }
                lowered.append(byte)
            default:
                return nil
            }
            previous = byte
        }
        guard previous != UInt8(ascii: ".") else { return nil }
        value = String(decoding: lowered, as: UTF8.self)
    }

    public var description: String { value }

    private static func isPort(_ digits: ArraySlice<UInt8>) -> Bool {
        guard !digits.isEmpty, digits.count <= 5 else { return false }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65_535
    }
}
