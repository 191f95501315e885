import Foundation

/// A request path after normalisation: percent-decoded once, split on `/` and `\`, `;params`
/// removed from every segment, empty and `.` segments dropped, `..` applied (never above the
/// root). Routes match on these segments, and the upstream receives this path re-encoded, so
/// the policy that was checked is the path that is served.
public struct NormalizedPath: Hashable, Sendable, CustomStringConvertible {
    public let segments: [String]
    public let hasTrailingSlash: Bool

    public init(segments: [String], hasTrailingSlash: Bool = false) {
        self.segments = segments
        self.hasTrailingSlash = hasTrailingSlash && !segments.isEmpty
    }

    /// The decoded path, for logs and matching: `/admin/teammates`.
    public var description: String {
        "/" + segments.joined(separator: "/") + (hasTrailingSlash ? "/" : "")
    }

    /// The path to send upstream, with each segment percent-encoded.
    public var encoded: String {
        "/" + segments.map(Self.encodeSegment).joined(separator: "/") + (hasTrailingSlash ? "/" : "")
    }

    /// True when `prefix` is a leading run of whole segments of this path. Without
    /// `caseSensitive`, ASCII letters match either case (and nothing else is folded: no Unicode
    /// case mapping, so `K` never matches U+212A KELVIN SIGN).
    public func hasPrefix(_ prefix: [String], caseSensitive: Bool = true) -> Bool {
        guard prefix.count <= segments.count else { return false }
        for index in prefix.indices {
            let matches = caseSensitive
                ? segments[index] == prefix[index]
                : Self.equalIgnoringASCIICase(segments[index], prefix[index])
            if !matches { return false }
        }
        return true
    }

    /// Whether some segment holds non-ASCII, a `:` or a `~`, or ends in `.` or a space: only then can the
    /// path imitate a route's prefix (``imitates(_:)``). One pass over the bytes.
    var mayImitate: Bool {
        segments.contains { segment in
            let bytes = segment.utf8
            return bytes.last == UInt8(ascii: ".") || bytes.last == UInt8(ascii: " ")
                || bytes.contains { $0 >= 0x80 || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "~") }
        }
    }

    /// True when the leading segments equal `prefix` once both are folded as lenient servers
    /// fold them (``lenientForm(_:)``): `/ADMİN`, `/admın`, `/ａｄｍｉｎ`, `/𝐚dmin`, `/ad­min` (a soft
    /// hyphen), `/admin.`, `/admin%20` or `/admin::$INDEX_ALLOCATION` for `/admin`. Such a path is
    /// not the route's here, but the upstream may serve it as such.
    public func imitates(_ prefix: [String]) -> Bool {
        imitates(prefix, lenientSegments: segments.prefix(prefix.count).map(Self.lenientForm))
    }

    /// ``imitates(_:)`` with this path's leading segments already folded (``lenientForm(_:)``),
    /// at least as many as `prefix` has. A segment also imitates a route's when it is an IIS 8.3
    /// short name of it (``isShortName(_:of:)``).
    func imitates(_ prefix: [String], lenientSegments: [String]) -> Bool {
        guard !prefix.isEmpty, prefix.count <= segments.count, prefix.count <= lenientSegments.count else { return false }
        for index in prefix.indices
        where lenientSegments[index] != Self.lenientForm(prefix[index]) && !Self.isShortName(segments[index], of: prefix[index]) {
            return false
        }
        return true
    }

    /// Whether `segment` is a Windows 8.3 short name IIS could answer as `name`'s directory
    /// (`ADMINI~1` for `administration`, on volumes that make short names): one to six letters or
    /// digits, `~`, digits, an optional `.` and extension, when `name` is long enough (or holds
    /// characters 8.3 does not) to get one, and begins, once cut to those characters, as the
    /// short name does.
    static func isShortName(_ segment: String, of name: String) -> Bool {
        let parts = segment.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let stem = parts[0].split(separator: "~", omittingEmptySubsequences: false)
        guard stem.count == 2, (1...6).contains(stem[0].count), !stem[1].isEmpty,
              stem[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), stem[1].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        let plain = name.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        let needsShortName = name.count > 8 || plain.count != name.count
        return needsShortName && plain.hasPrefix(stem[0].uppercased())
    }

    /// A segment as a lenient server may read it:
    /// - compatibility-decomposed (NFKD: fullwidth, mathematical, circled and enclosed letters,
    ///   small roman numerals, super- and subscripts as their plain letters; U+00A0 as a space;
    ///   accented letters as the letter and a combining mark, which is dropped below);
    /// - default-ignorable code points dropped (U+00AD SOFT HYPHEN, U+200B ZERO WIDTH SPACE, joiners,
    ///   variation selectors);
    /// - each scalar upper- then lower-cased (Unicode case folding's effect for look-alikes:
    ///   U+212A KELVIN SIGN and `K` are `k`, U+017F LONG S is `s`, U+0131 DOTLESS I is `i`), with
    ///   combining marks dropped (U+0130 `İ` lower-cases to `i` and a dot; `é` is `e`);
    /// - an NTFS stream suffix cut (`admin::$INDEX_ALLOCATION`, `admin:x:$DATA`: IIS serves
    ///   `admin`), then trailing dots and spaces trimmed (IIS).
    static func lenientForm(_ segment: String) -> String {
        var form = folded(segment)
        if form.contains(":$"), let colon = form.firstIndex(of: ":") {
            form = String(form[..<colon])
        }
        while let last = form.unicodeScalars.last, last == "." || last == " " {
            form.unicodeScalars.removeLast()
        }
        return form
    }

    /// Whether a segment, folded as a lenient server may fold it, is `.` or `..` or holds a
    /// `/` or `\` (`．．`, `‥`, `／`, `＼`): such a server would read another path, whatever
    /// route this one matches.
    var foldsIntoAnotherPath: Bool {
        segments.contains { segment in
            guard segment.utf8.contains(where: { $0 >= 0x80 }) else { return false }
            let form = Self.folded(segment)
            return form == "." || form == ".." || form.contains("/") || form.contains("\\")
        }
    }

    /// NFKD, default-ignorables dropped, case folded, combining marks dropped (``lenientForm(_:)``
    /// before streams and trailing dots are cut).
    static func folded(_ segment: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in segment.decomposedStringWithCompatibilityMapping.unicodeScalars
        where !scalar.properties.isDefaultIgnorableCodePoint {
            let value = scalar.value
            let plain = (0xFF01...0xFF5E).contains(value) ? Unicode.Scalar(value - 0xFEE0) ?? scalar : scalar
            for upper in plain.properties.uppercaseMapping.unicodeScalars {
                for lower in upper.properties.lowercaseMapping.unicodeScalars where lower.properties.generalCategory != .nonspacingMark {
                    scalars.append(lower)
                }
            }
        }
        return String(scalars)
    }

    static func equalIgnoringASCIICase(_ lhs: String, _ rhs: String) -> Bool {
        let a = lhs.utf8, b = rhs.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let foldedX = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let foldedY = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            if foldedX != foldedY { return false }
        }
        return true
    }

    /// Leaves RFC 3986 unreserved characters and the sub-delimiters safe in a segment as they
    /// are; everything else, including `;`, `%`, `/`, `\`, `?` and `#`, is encoded.
    static func encodeSegment(_ segment: String) -> String {
        var needsEncoding = false
        for byte in segment.utf8 where !isSafe(byte) {
            needsEncoding = true
            break
        }
        guard needsEncoding else { return segment }
        var result = ""
        result.reserveCapacity(segment.utf8.count * 3)
        for byte in segment.utf8 {
            if isSafe(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%"
                result += String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
            true
        default:
            false
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
