/// Where to go after login: a same-origin path only (no open redirect). Anything that could be
/// read as another origin — `//evil.com`, `/\evil.com`, `/%2F%2Fevil.com`, control characters,
/// `https://…`, `javascript:` — becomes `/`.
public enum ReturnPath {
    public static let fallback = "/"
    public static let maximumLength = 2_048

    public static func sanitize(_ raw: String?) -> String {
        guard let raw, !raw.isEmpty, raw.utf8.count <= maximumLength else { return fallback }
        let bytes = Array(raw.utf8)
        // Must start with exactly one '/', followed by neither '/' nor '\'.
        guard bytes[0] == UInt8(ascii: "/") else { return fallback }
        if bytes.count > 1, bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\") { return fallback }
        // No control characters, spaces or backslashes anywhere (browsers treat '\' as '/',
        // and strip tabs and newlines before parsing).
        for byte in bytes where byte < 0x21 || byte == 0x7F || byte == UInt8(ascii: "\\") {
            return fallback
        }
        // What the path means after percent-decoding must not be another origin either.
        guard let decoded = percentDecoded(bytes) else { return fallback }
        if decoded.count > 1, decoded[1] == UInt8(ascii: "/") || decoded[1] == UInt8(ascii: "\\") { return fallback }
        for byte in decoded where byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") {
            return fallback
        }
        // No dot segments or empty segments anywhere: what the browser resolves is what we checked.
        let path = raw.prefix { $0 != "?" && $0 != "#" }
        if path.contains("//") { return fallback }
        for segment in path.split(separator: "/") where segment == "." || segment == ".." || segment.lowercased().hasPrefix("%2e") {
            return fallback
        }
        guard (try? RequestTarget(parsing: raw)) != nil else { return fallback }
        return raw
    }

    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8]? {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else { return nil }
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
