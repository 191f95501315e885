/// Comma-separated header values (`Connection: keep-alive, Upgrade`) without Foundation:
/// these run for every proxied message.
enum HeaderTokens {
    /// The tokens of a list value, trimmed of spaces and tabs, empty ones dropped.
    static func split(_ value: String) -> [Substring] {
        var tokens: [Substring] = []
        for piece in value.split(separator: ",") {
            var token = piece[...]
            while let first = token.first, first == " " || first == "\t" { token = token.dropFirst() }
            while let last = token.last, last == " " || last == "\t" { token = token.dropLast() }
            if !token.isEmpty { tokens.append(token) }
        }
        return tokens
    }

    /// Whether a list value contains `token`, ignoring ASCII case.
    static func contains(_ value: String, token: String) -> Bool {
        split(value).contains { equalIgnoringCase($0, token) }
    }

    static func equalIgnoringCase(_ lhs: Substring, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        for (a, b) in zip(lhs.utf8, rhs.utf8) {
            let lowerA = a >= 65 && a <= 90 ? a | 0x20 : a
            let lowerB = b >= 65 && b <= 90 ? b | 0x20 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}
