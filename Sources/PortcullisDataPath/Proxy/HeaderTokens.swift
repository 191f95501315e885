/// Comma-separated header values (`Connection: keep-alive, Upgrade`), read byte by byte: these
/// run for every proxied message, so nothing here iterates characters or builds arrays unless
/// asked to.
enum HeaderTokens {
    /// Calls `body` with each token of a list value, trimmed of spaces and tabs, empty ones
    /// skipped, until it answers false.
    static func forEach(_ value: String, _ body: (Substring) -> Bool) {
        let utf8 = value.utf8
        var pieceStart = utf8.startIndex
        var index = utf8.startIndex
        while true {
            let atEnd = index == utf8.endIndex
            if atEnd || utf8[index] == UInt8(ascii: ",") {
                var lower = pieceStart
                var upper = index
                while lower < upper, isBlank(utf8[lower]) { lower = utf8.index(after: lower) }
                while lower < upper {
                    let before = utf8.index(before: upper)
                    guard isBlank(utf8[before]) else { break }
                    upper = before
                }
                if lower < upper, !body(value[lower..<upper]) { return }
                if atEnd { return }
                pieceStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
    }

    /// The tokens of a list value, trimmed of spaces and tabs, empty ones dropped.
    static func split(_ value: String) -> [Substring] {
        var tokens: [Substring] = []
        forEach(value) { token in
            tokens.append(token)
            return true
        }
        return tokens
    }

    /// Whether a list value contains `token`, ignoring ASCII case.
    static func contains(_ value: String, token: String) -> Bool {
        var found = false
        forEach(value) { candidate in
            found = equalIgnoringCase(candidate, token)
            return !found
        }
        return found
    }

    /// The last token of a list value, if any.
    static func last(_ value: String) -> Substring? {
        var last: Substring?
        forEach(value) { token in
            last = token
            return true
        }
        return last
    }

    static func equalIgnoringCase(_ lhs: Substring, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        var index = rhs.utf8.startIndex
        for a in lhs.utf8 {
            let b = rhs.utf8[index]
            let lowerA = a >= 65 && a <= 90 ? a | 0x20 : a
            let lowerB = b >= 65 && b <= 90 ? b | 0x20 : b
            if lowerA != lowerB { return false }
            index = rhs.utf8.index(after: index)
        }
        return true
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
