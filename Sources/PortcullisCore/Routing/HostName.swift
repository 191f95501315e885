/// A request's host, normalised for route matching: lower-case, without the port or a trailing
/// dot. IPv6 literals keep their brackets.
public struct HostName: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public static let maximumLength = 255

    /// Normalises a `Host` header or an authority. Returns `nil` for anything that is not a
    /// plausible host: empty labels, bad characters, a bad port.
    public init?(_ raw: some StringProtocol) {
        var text = Substring(raw)
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else { return nil }
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let inner = text[text.index(after: text.startIndex)..<close]
            guard (try? IPAddress(parsing: inner)) != nil else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || Self.isPort(rest.dropFirst()) && rest.first == ":" else { return nil }
            value = "[" + inner.lowercased() + "]"
            return
        }
        if let colon = text.lastIndex(of: ":") {
            guard Self.isPort(text[text.index(after: colon)...]) else { return nil }
            text = text[..<colon]
        }
        if text.last == "." { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                continue
            default:
                return nil
            }
        }
        guard !text.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            return nil
        }
        value = text.lowercased()
    }

    public var description: String { value }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy(\.isASCIIDigit) && (Int(text) ?? 70_000) <= 65_535
    }
}
