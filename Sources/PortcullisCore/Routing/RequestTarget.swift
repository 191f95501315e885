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
        var end = bytes.endIndex
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { end = hash }
        var pathEnd = end
        var query: Substring?
        if let mark = bytes[..<end].firstIndex(of: UInt8(ascii: "?")) {
            pathEnd = mark
            let queryStart = bytes.index(after: mark)
            if bytes[queryStart..<end].contains(where: { $0 < 0x21 || $0 == 0x7F }) {
                throw .forbiddenCharacter
            }
            query = target[queryStart..<end]
        }
        self.path = try Self.normalize(bytes[..<pathEnd])
        self.query = query
    }

    static func normalize(_ raw: Substring.UTF8View) throws(ParseError) -> NormalizedPath {
        // Percent-decode once.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
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

        // Split on '/' and '\\'; drop ";params", empty and "." segments; apply "..".
        // A separator byte is never part of a multi-byte UTF-8 sequence, so validating each
        // segment validates the path.
        var segments: [String] = []
        var trailing = false
        var start = 0
        var index = 0
        let count = decoded.count
        while index <= count {
            let isSeparator = index == count || decoded[index] == UInt8(ascii: "/") || decoded[index] == UInt8(ascii: "\\")
            if isSeparator {
                if index > start {
                    var segmentEnd = index
                    if let semicolon = decoded[start..<index].firstIndex(of: UInt8(ascii: ";")) { segmentEnd = semicolon }
                    let length = segmentEnd - start
                    let isLast = index == count
                    if length == 0 || (length == 1 && decoded[start] == UInt8(ascii: ".")) {
                        if isLast { trailing = true }
                    } else if length == 2, decoded[start] == UInt8(ascii: "."), decoded[start + 1] == UInt8(ascii: ".") {
                        _ = segments.popLast()
                        if isLast { trailing = true }
                    } else {
                        guard let segment = String(validating: decoded[start..<segmentEnd], as: UTF8.self) else {
                            throw .invalidUTF8
                        }
                        segments.append(segment)
                        if isLast { trailing = false }
                    }
                }
                if index < count { trailing = true }
                start = index + 1
            }
            index += 1
        }
        return NormalizedPath(segments: segments, hasTrailingSlash: trailing)
    }

    /// The value of one hex digit, `nil` for any other byte.
    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
