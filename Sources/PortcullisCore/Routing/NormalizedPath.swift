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
    /// at least as many as `prefix` has. A segment also imitates a route's when, so folded, it
    /// is an IIS 8.3 short name of it (``isShortName(_:of:)``): `ADMINI~1 `, `ADMINI~1::$DATA`
    /// and `ＡDMINI～１` are `ADMINI~1` to IIS.
    func imitates(_ prefix: [String], lenientSegments: [String]) -> Bool {
        guard !prefix.isEmpty, prefix.count <= segments.count, prefix.count <= lenientSegments.count else { return false }
        for index in prefix.indices
        where lenientSegments[index] != Self.lenientForm(prefix[index]) && !Self.isShortName(lenientSegments[index], of: prefix[index]) {
            return false
        }
        return true
    }

    /// The punctuation Windows keeps in an 8.3 name (it drops spaces and dots, and writes `_`
    /// for anything else it cannot hold).
    private static let shortNamePunctuation = Set("!#$%&'()-@^_`{}~".unicodeScalars)

    /// Whether `segment` (folded: ``lenientForm(_:)``) is a Windows 8.3 short name IIS could
    /// answer as `name`'s directory, on volumes that make short names: a stem of one to six
    /// characters, `~`, digits, an optional `.` and extension, when `name` is long enough (or
    /// holds characters 8.3 does not) to get one. The stem is either how the name begins once
    /// cut to 8.3's characters (`ADMINI~1` for `administration`, `USER-M~1` for
    /// `user-management`, `ADMIN_~1` for `admin_panel`, `MY_APP~1` for `my+app`), or the form
    /// Windows uses past four such names: the name's first two characters and four hex digits
    /// of a hash (`AD3F1C~1`), which cannot be checked, so any four hex digits count.
    static func isShortName(_ segment: String, of name: String) -> Bool {
        let base = segment.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let tilde = base.lastIndex(of: "~") else { return false }
        let stem = base[..<tilde].uppercased()
        let number = base[base.index(after: tilde)...]
        guard (1...6).contains(stem.count), !number.isEmpty, stem.count + 1 + number.count <= 8,
              number.allSatisfy({ $0.isASCII && $0.isNumber }),
              stem.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || shortNamePunctuation.contains($0)) })
        else { return false }
        // The name as 8.3 spells it: upper case, spaces and dots dropped, anything else 8.3
        // cannot hold as `_`.
        var plain = ""
        var needsShortName = name.unicodeScalars.count > 8
        for scalar in name.uppercased().unicodeScalars {
            if scalar == " " || scalar == "." {
                needsShortName = true
            } else if scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || shortNamePunctuation.contains(scalar)) {
                plain.unicodeScalars.append(scalar)
            } else {
                needsShortName = true
                plain.unicodeScalars.append("_")
            }
        }
        guard needsShortName else { return false }
        if plain.hasPrefix(stem) { return true }
        let hashed = stem.unicodeScalars
        return hashed.count == 6 && plain.hasPrefix(String(String.UnicodeScalarView(hashed.prefix(2))))
            && hashed.dropFirst(2).allSatisfy { $0.properties.isASCIIHexDigit }
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
        var form = cutStream(folded(segment))
        while let last = form.unicodeScalars.last, last == "." || last == " " {
            form.unicodeScalars.removeLast()
        }
        return form
    }

    /// The path a lenient server may read, when some segment walks: a segment that is a dot
    /// segment to it (`．．`, `‥`, `.. `, `..::$INDEX_ALLOCATION` are `..`), or holds a
    /// character it folds into a separator (`／`, `＼`, `℅`, which is `c/o`); see
    /// ``lenientParts(_:)``. Every such segment split and dot segments applied (never above the
    /// root); `nil` when no segment walks. The route table refuses such a path only when this
    /// reading is another route's (`/public/．．/admin`, `/x/.. /admin`, `/wiki/secret／x`), not
    /// when it stays in the same one (`/wiki/東京／大阪`). A segment that only folds (case,
    /// width, accents: `/Café`) reads as itself here: the look-alike check judges those.
    var lenientReading: NormalizedPath? {
        var read: [String] = []
        var differs = false
        for segment in segments {
            guard let parts = Self.lenientParts(segment) else {
                read.append(segment)
                continue
            }
            differs = true
            for part in parts {
                switch part {
                case ".": continue
                case "..": _ = read.popLast()
                default: read.append(part)
                }
            }
        }
        return differs ? NormalizedPath(segments: read, hasTrailingSlash: hasTrailingSlash) : nil
    }

    /// How a lenient server may split one segment, when it walks: at each code point it folds
    /// into `/` or `\` (the rest kept as written), each piece that is only dots and spaces once
    /// folded, with an NTFS stream cut and trailing spaces trimmed, read as `..` (two dots or
    /// more first) or `.`. `nil` for a segment that neither splits nor is a dot segment so
    /// read, which every segment without non-ASCII, a `:`, or a trailing space or dot is.
    static func lenientParts(_ segment: String) -> [String]? {
        let bytes = segment.utf8
        let nonASCII = bytes.contains { $0 >= 0x80 }
        guard nonASCII || bytes.last == UInt8(ascii: " ") || bytes.last == UInt8(ascii: ".") || bytes.contains(UInt8(ascii: ":")) else {
            return nil
        }
        var pieces = [""]
        if nonASCII {
            // Scalar by scalar, not by Character: a grapheme cluster may hold a separator with
            // a prepended character or a spacing mark (`؀／`, `／ः`), and a server that folds
            // `／` reads the `/` in it all the same.
            for scalar in segment.unicodeScalars {
                // Windows' best-fit conversion to the Japanese and Korean code pages writes `¥`
                // and `₩` as `\` (the "WorstFit" attacks): read them as separators too.
                let form = scalar.isASCII ? String(scalar) : Self.bestFitBackslashes.contains(scalar) ? "\\" : folded(String(scalar))
                guard form.unicodeScalars.contains(where: { $0 == "/" || $0 == "\\" }) else {
                    pieces[pieces.count - 1].unicodeScalars.append(scalar)
                    continue
                }
                var current = pieces.removeLast()
                for folded in form.unicodeScalars {
                    if folded == "/" || folded == "\\" {
                        pieces.append(current)
                        current = ""
                    } else {
                        current.unicodeScalars.append(folded)
                    }
                }
                pieces.append(current)
            }
        } else {
            pieces = [segment]
        }
        var walks = pieces.count > 1
        let parts = pieces.compactMap { piece -> String? in
            if let dots = dotSegment(piece) {
                walks = true
                return dots
            }
            return piece.isEmpty ? nil : piece
        }
        return walks ? parts : nil
    }

    /// `..` or `.` when `piece` is only dots and spaces once folded, cut at its first colon (an
    /// NTFS stream, typed or not: `..:x` is `..` to IIS, and no app names a custom method of
    /// `..`) and its trailing spaces trimmed; `nil` otherwise.
    private static func dotSegment(_ piece: String) -> String? {
        var form = piece.utf8.contains { $0 >= 0x80 } ? folded(piece) : piece
        if let colon = form.unicodeScalars.firstIndex(of: ":") {
            form = String(form.unicodeScalars[..<colon])
        }
        while form.unicodeScalars.last == " " {
            form.unicodeScalars.removeLast()
        }
        guard !form.isEmpty, form.unicodeScalars.allSatisfy({ $0 == "." || $0 == " " }) else { return nil }
        return form.hasPrefix("..") ? ".." : "."
    }

    /// U+00A5 YEN SIGN (code page 932) and U+20A9 WON SIGN (949), which best-fit conversion
    /// turns into `\`.
    static let bestFitBackslashes: Set<Unicode.Scalar> = ["\u{A5}", "\u{20A9}"]

    /// `form` cut at its first `:` when it names an NTFS stream (holds `:$`): `admin::$DATA` and
    /// `admin:x:$DATA` are `admin`. By code point, not by `Character`: a `:` followed by a mark
    /// the folding keeps would not be a `Character` of its own.
    static func cutStream(_ form: String) -> String {
        let scalars = form.unicodeScalars
        guard let colon = scalars.firstIndex(of: ":"),
              zip(scalars[colon...], scalars[colon...].dropFirst()).contains(where: { $0 == ":" && $1 == "$" })
        else { return form }
        return String(scalars[..<colon])
    }

    /// The path with every segment from `start` on cut at its first colon, as NTFS reads a
    /// stream whose type is not written (`administration:x` is the stream `x` of
    /// `administration`, `administration:` its default one); `nil` when no such segment holds a
    /// colon (or a character folding into one, `：`). The route table does not refuse such a
    /// segment for imitating a route, since an API's custom method is written so too
    /// (`/items:batchGet`, AIP-136), but it refuses a path whose reading so cut is another
    /// route's (``RouteTable/match(host:path:method:)``). A cut that leaves a segment empty
    /// drops it.
    func streamReading(from start: Int) -> NormalizedPath? {
        cutReading(from: start, at: ":", keepingLeading: false) { _ in true }
    }

    /// The path with every segment from `start` on cut at its first dot, as a framework reads
    /// a format suffix (Rails' `(.:format)`: `/staff/users.json` is `users#index`; Spring MVC's
    /// suffix patterns before 5.3; Django REST Framework's `format_suffix_patterns`); `nil`
    /// when no segment has a dot past its first character, or when no segment so cut could be
    /// another route's (`relevant`: the table asks only for cut segments that are one of its
    /// prefixes' segments, or a path that may imitate one), so that `/static/app.js` costs no
    /// second match.
    func suffixReading(from start: Int, relevant: (String) -> Bool) -> NormalizedPath? {
        cutReading(from: start, at: ".", keepingLeading: true, relevant: relevant)
    }

    /// `segments` from `start` on, each cut at its first `separator` (or a character folding
    /// into it), when at least one cut segment is `relevant`.
    private func cutReading(
        from start: Int, at separator: Unicode.Scalar, keepingLeading: Bool, relevant: (String) -> Bool
    ) -> NormalizedPath? {
        guard start < segments.count else { return nil }
        var read = Array(segments[..<start])
        var matters = false
        let byte = UInt8(truncatingIfNeeded: separator.value)
        for segment in segments[start...] {
            let bytes = segment.utf8
            guard bytes.contains(where: { $0 >= 0x80 || $0 == byte }),
                  let cut = segment.unicodeScalars.firstIndex(where: { scalar in
                      scalar == separator || (!scalar.isASCII && Self.folded(String(scalar)).unicodeScalars.contains(separator))
                  }),
                  !(keepingLeading && cut == segment.unicodeScalars.startIndex)
            else {
                read.append(segment)
                continue
            }
            let kept = String(segment.unicodeScalars[..<cut])
            if !kept.isEmpty { read.append(kept) }
            if !matters, relevant(kept) { matters = true }
        }
        return matters ? NormalizedPath(segments: read, hasTrailingSlash: hasTrailingSlash) : nil
    }

    /// The path without its first script segment that has segments after it, and that
    /// segment's index (`/index.php/admin/users` is `/admin/users`, `/app/index.php/admin` is
    /// `/app/admin`), as a PHP, ASP.NET or CGI front controller reads its PATH_INFO (Laravel,
    /// Symfony, WordPress, Drupal route on it; Symfony strips a leading `/index.php` itself);
    /// `nil` when there is no such segment. The script may be a route's own prefix
    /// (`/blog/index.php`): its PATH_INFO is still read.
    func pathInfoReading() -> (path: NormalizedPath, script: Int)? {
        guard segments.count > 1,
              let script = segments.indices.dropLast().first(where: { Self.isScript(segments[$0]) })
        else { return nil }
        var read = segments
        read.remove(at: script)
        return (NormalizedPath(segments: read, hasTrailingSlash: hasTrailingSlash), script)
    }

    /// The extensions servers hand to a script with the rest of the path as its PATH_INFO.
    private static let scriptExtensions = [".php", ".phtml", ".php5", ".php7", ".phar", ".asp", ".aspx", ".ashx", ".asmx", ".cgi", ".fcgi", ".pl"]

    static func isScript(_ segment: String) -> Bool {
        guard segment.utf8.contains(UInt8(ascii: ".")) else { return false }
        let lower = segment.lowercased()
        return scriptExtensions.contains { lower.hasSuffix($0) && lower.utf8.count > $0.utf8.count }
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
                for lower in upper.properties.lowercaseMapping.unicodeScalars where !Self.isCombiningMark(lower) {
                    scalars.append(lower)
                }
            }
        }
        return String(scalars)
    }

    /// Any combining mark (Unicode's category M: nonspacing, spacing and enclosing), as
    /// servers that strip "combining marks" (`\p{M}`) drop them.
    static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
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
