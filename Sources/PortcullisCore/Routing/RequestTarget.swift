/// A request-target split into its normalised path and its raw query (SPEC §5).
public struct RequestTarget: Hashable, Sendable {
    public let path: NormalizedPath
    /// The query as received, without the `?`; `nil` when there was none.
    public let query: Substring?

    /// The most bytes a request-target may have.
    public static let maximumLength = 8 * 1024

    public enum ParseError: Error, Hashable, Sendable {
        case notOriginForm
        case tooLong
        case badPercentEncoding
        case forbiddenCharacter
        case doubleEncoded
        case invalidUTF8
    }

    /// What the upstream receives: the normalised path, then the query untouched.
    public var encoded: String {
        if let query { return path.encoded + "?" + query }
        return path.encoded
    }

    /// Parses an origin-form target (`/path?query`). A `#fragment` is dropped.
    public init(parsing target: String) throws(ParseError) {
        let bytes = target.utf8
        guard bytes.count <= Self.maximumLength else { throw .tooLong }
        guard bytes.first == UInt8(ascii: "/") else { throw .notOriginForm }
        var raw = Substring(target)
        if let hash = raw.firstIndex(of: "#") { raw = raw[..<hash] }
        var pathPart = raw
        var query: Substring?
        if let mark = raw.firstIndex(of: "?") {
            pathPart = raw[..<mark]
            query = raw[raw.index(after: mark)...]
        }
        if let query, query.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) {
            throw .forbiddenCharacter
        }
        self.path = try Self.normalize(pathPart)
        self.query = query
    }

    static func normalize(_ raw: Substring) throws(ParseError) -> NormalizedPath {
        // Percent-decode once.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.utf8.count)
        var iterator = raw.utf8.makeIterator()
        var sawEscape = false
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .badPercentEncoding
                }
                decoded.append(high << 4 | low)
                sawEscape = true
            } else {
                decoded.append(byte)
            }
        }
        for byte in decoded where byte < 0x20 || byte == 0x7F {
            throw .forbiddenCharacter
        }
        if sawEscape {
            // What is still an escape after one decoding was encoded twice: refuse rather than
            // guess how the upstream decodes it.
            var index = 0
            while index + 2 < decoded.count {
                if decoded[index] == UInt8(ascii: "%"), hexValue(decoded[index + 1]) != nil, hexValue(decoded[index + 2]) != nil {
                    throw .doubleEncoded
                }
                index += 1
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else { throw .invalidUTF8 }

        var segments: [String] = []
        var trailing = false
        var start = text.startIndex
        var index = text.startIndex
        func finish(_ piece: Substring, isLast: Bool) {
            var segment = piece
            if let semicolon = segment.firstIndex(of: ";") { segment = segment[..<semicolon] }
            switch segment {
            case "", ".":
                if isLast { trailing = true }
            case "..":
                _ = segments.popLast()
                if isLast { trailing = true }
            default:
                segments.append(String(segment))
                if isLast { trailing = false }
            }
        }
        while index < text.endIndex {
            let character = text[index]
            if character == "/" || character == "\\" {
                if index > start { finish(text[start..<index], isLast: false) }
                start = text.index(after: index)
                trailing = true
            }
            index = text.index(after: index)
        }
        if start < text.endIndex {
            finish(text[start...], isLast: true)
        }
        return NormalizedPath(segments: segments, hasTrailingSlash: trailing)
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
