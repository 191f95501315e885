/// An upstream's `Set-Cookie`, read byte by byte for one question: would the browser then send
/// the gateway a cookie of one of the gateway's own names? Such a header never reaches the
/// client, so an upstream (or whoever controls part of one) cannot set, replace or clear the
/// session or login-state cookie.
///
/// The name is read as browsers read it (RFC 6265bis §5.6) and then as the gateway reads the
/// `Cookie` header the browser would send (``CookieHeader``), whichever finds more:
/// - only the name-value pair counts: the text before the first `;`;
/// - spaces and tabs around the name do not count (`Set-Cookie:  __Host-portcullis =x`);
/// - a pair with an empty name (`=__Host-portcullis=x`) is sent back as its value alone, which
///   reads as a cookie of that name;
/// - a `,` in a name or value comes back inside the `Cookie` header, where the gateway also
///   splits pairs on `,` (`a=b,__Host-portcullis=x`);
/// - letter case does not count: browsers treat the `__Host-` and `__Secure-` prefixes without
///   regard to case (RFC 6265bis), so every case variant of the gateway's names is the
///   gateway's.
enum SetCookieHeader {
    /// Whether `value` sets a cookie the gateway would read as one of `names`.
    static func setsAny(of names: [String], _ value: String) -> Bool {
        let utf8 = value.utf8
        // The name-value pair, without leading blanks or `=` (an empty name).
        var start = utf8.startIndex
        while start < utf8.endIndex, utf8[start] == UInt8(ascii: " ") || utf8[start] == UInt8(ascii: "\t") || utf8[start] == UInt8(ascii: "=") {
            start = utf8.index(after: start)
        }
        let end = utf8[start...].firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
        var pieceStart = start
        var index = start
        while true {
            let atEnd = index == end
            if atEnd || utf8[index] == UInt8(ascii: ",") {
                let piece = utf8[pieceStart..<index]
                let nameEnd = piece.firstIndex(of: UInt8(ascii: "=")) ?? piece.endIndex
                if names.contains(where: { equalIgnoringCase(trimmed(utf8[pieceStart..<nameEnd]), $0) }) { return true }
                if atEnd { return false }
                pieceStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
    }

    private static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        var lower = bytes.startIndex
        var upper = bytes.endIndex
        while lower < upper, isBlank(bytes[lower]) { lower = bytes.index(after: lower) }
        while lower < upper {
            let before = bytes.index(before: upper)
            guard isBlank(bytes[before]) else { break }
            upper = before
        }
        return bytes[lower..<upper]
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func equalIgnoringCase(_ bytes: Substring.UTF8View, _ name: String) -> Bool {
        guard bytes.count == name.utf8.count else { return false }
        var index = name.utf8.startIndex
        for byte in bytes {
            let expected = name.utf8[index]
            let lowerA = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            let lowerB = expected >= UInt8(ascii: "A") && expected <= UInt8(ascii: "Z") ? expected | 0x20 : expected
            if lowerA != lowerB { return false }
            index = name.utf8.index(after: index)
        }
        return true
    }
}
