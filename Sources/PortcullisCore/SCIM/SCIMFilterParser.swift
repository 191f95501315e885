/// The filter grammar of RFC 7644 §3.4.2.2 by recursive descent, with bounds on length, terms
/// and nesting so that hostile filters cost little and never exhaust the stack. Operators and
/// `and`/`or`/`not` are case-insensitive; `not` binds tighter than `and`, `and` than `or`.
struct SCIMFilterParser {
    enum Token: Hashable {
        case word(String)
        case string(String)
        case openParenthesis, closeParenthesis, openBracket, closeBracket

        var shown: String {
            switch self {
            case .word(let word): SCIMFailure.quoted(word)
            case .string: "a string"
            case .openParenthesis: "("
            case .closeParenthesis: ")"
            case .openBracket: "["
            case .closeBracket: "]"
            }
        }
    }

    private var tokens: [Token]
    private var position = 0
    private var terms = 0

    static func parse(_ text: some StringProtocol) throws(SCIMFailure) -> SCIMFilter {
        guard text.utf8.count <= SCIMFilter.maximumLength else {
            throw .invalidFilter("the filter is longer than \(SCIMFilter.maximumLength) bytes")
        }
        var parser = SCIMFilterParser(tokens: try tokenize(Array(text.utf8)))
        guard !parser.tokens.isEmpty else { throw .invalidFilter("the filter is empty") }
        let filter = try parser.parseOr(depth: 0, inside: false)
        if parser.position < parser.tokens.count {
            throw .invalidFilter("unexpected \(parser.tokens[parser.position].shown) in the filter")
        }
        return filter
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    // MARK: grammar

    private var next: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func keyword(_ name: String) -> Bool {
        if case .word(let word)? = next, SCIMName.equal(word, name) {
            position += 1
            return true
        }
        return false
    }

    private mutating func expect(_ token: Token, _ what: String) throws(SCIMFailure) {
        guard next == token else {
            throw .invalidFilter("expected \(what)" + (next.map { ", found \($0.shown)" } ?? " at the end of the filter"))
        }
        position += 1
    }

    private mutating func parseOr(depth: Int, inside: Bool) throws(SCIMFailure) -> SCIMFilter {
        var filter = try parseAnd(depth: depth, inside: inside)
        while keyword("or") {
            filter = .or(filter, try parseAnd(depth: depth, inside: inside))
        }
        return filter
    }

    private mutating func parseAnd(depth: Int, inside: Bool) throws(SCIMFailure) -> SCIMFilter {
        var filter = try parseUnary(depth: depth, inside: inside)
        while keyword("and") {
            filter = .and(filter, try parseUnary(depth: depth, inside: inside))
        }
        return filter
    }

    private mutating func parseUnary(depth: Int, inside: Bool) throws(SCIMFailure) -> SCIMFilter {
        guard depth < SCIMFilter.maximumDepth else {
            throw .invalidFilter("the filter nests deeper than \(SCIMFilter.maximumDepth) levels")
        }
        if case .word(let word)? = next, SCIMName.equal(word, "not"), position + 1 < tokens.count, tokens[position + 1] == .openParenthesis {
            position += 2
            let inner = try parseOr(depth: depth + 1, inside: inside)
            try expect(.closeParenthesis, "\")\" to close not(…)")
            return .not(inner)
        }
        if next == .openParenthesis {
            position += 1
            let inner = try parseOr(depth: depth + 1, inside: inside)
            try expect(.closeParenthesis, "\")\"")
            return inner
        }
        return try parseAttributeExpression(depth: depth, inside: inside)
    }

    private mutating func parseAttributeExpression(depth: Int, inside: Bool) throws(SCIMFailure) -> SCIMFilter {
        guard case .word(let word)? = next else {
            throw .invalidFilter("expected an attribute" + (next.map { ", found \($0.shown)" } ?? " at the end of the filter"))
        }
        position += 1
        let path: SCIMAttributePath
        do {
            path = try SCIMAttributePath(parsing: word)
        } catch {
            throw .invalidFilter(error.detail)
        }
        terms += 1
        guard terms <= SCIMFilter.maximumTerms else {
            throw .invalidFilter("the filter has more than \(SCIMFilter.maximumTerms) comparisons")
        }
        if next == .openBracket {
            guard !inside else { throw .invalidFilter("value paths cannot nest: \(SCIMFailure.quoted(word))[…[…]]") }
            guard path.subAttribute == nil else { throw .invalidFilter("\(SCIMFailure.quoted(word))[…] names a sub-attribute before the brackets") }
            position += 1
            let inner = try parseOr(depth: depth + 1, inside: true)
            try expect(.closeBracket, "\"]\" to close \(SCIMFailure.quoted(word))[…]")
            if case .word(let after)? = next, after.hasPrefix(".") {
                // `emails[type eq "work"].value eq "x"`, as Entra ID queries users: one value
                // of the attribute matches the filter and has a sub-attribute that compares.
                position += 1
                let subName = after.dropFirst()
                guard SCIMAttributePath.isName(subName) else {
                    throw .invalidFilter("\(SCIMFailure.quoted(after)) is not a sub-attribute")
                }
                let sub = try parseComparison(SCIMAttributePath(attribute: String(subName)))
                return .valuePath(path, .and(inner, sub))
            }
            return .valuePath(path, inner)
        }
        return try parseComparison(path, word: word)
    }

    /// `op value` or `pr` after an attribute path.
    private mutating func parseComparison(_ path: SCIMAttributePath, word: String? = nil) throws(SCIMFailure) -> SCIMFilter {
        let word = word ?? path.text
        guard case .word(let operatorWord)? = next else {
            throw .invalidFilter("expected an operator after \(SCIMFailure.quoted(word))" + (next.map { ", found \($0.shown)" } ?? ""))
        }
        position += 1
        if SCIMName.equal(operatorWord, "pr") { return .present(path) }
        guard let comparison = SCIMComparison(rawValue: SCIMName.key(operatorWord)) else {
            throw .invalidFilter("\(SCIMFailure.quoted(operatorWord)) is not a filter operator (eq, ne, co, sw, ew, gt, lt, ge, le, pr)")
        }
        guard let valueToken = next else { throw .invalidFilter("expected a value after \(comparison.rawValue)") }
        position += 1
        return .compare(path, comparison, try Self.value(valueToken))
    }

    static func value(_ token: Token) throws(SCIMFailure) -> SCIMFilterValue {
        switch token {
        case .string(let text): return .string(text)
        case .word(let word):
            switch SCIMName.key(word) {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                guard isJSONNumber(word), let number = Double(word), number.isFinite else {
                    throw .invalidFilter("\(SCIMFailure.quoted(word)) is not a value: quote strings (\"…\")")
                }
                return .number(number)
            }
        default:
            throw .invalidFilter("expected a value, found \(token.shown)")
        }
    }

    /// `[ "-" ] int [ frac ] [ exp ]` (RFC 8259 §6).
    static func isJSONNumber(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if bytes.first == 0x2D { bytes = bytes.dropFirst() }
        func digits() -> Int {
            let count = bytes.prefix { (0x30...0x39).contains($0) }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        let leadingZero = bytes.first == 0x30
        let integer = digits()
        guard integer > 0, !(leadingZero && integer > 1) else { return false }
        if bytes.first == 0x2E {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == 0x65 || bytes.first == 0x45 {
            bytes = bytes.dropFirst()
            if bytes.first == 0x2B || bytes.first == 0x2D { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    // MARK: tokens

    static let maximumTokens = 1_024

    static func tokenize(_ bytes: [UInt8]) throws(SCIMFailure) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            guard tokens.count < maximumTokens else { throw .invalidFilter("the filter has too many parts") }
            let byte = bytes[index]
            switch byte {
            case 0x20, 0x09:
                index += 1
            case 0x28: tokens.append(.openParenthesis); index += 1
            case 0x29: tokens.append(.closeParenthesis); index += 1
            case 0x5B: tokens.append(.openBracket); index += 1
            case 0x5D: tokens.append(.closeBracket); index += 1
            case 0x22:
                let (text, end) = try string(bytes, from: index)
                tokens.append(.string(text))
                index = end
            default:
                guard SCIMAttributePath.isPathByte(byte) || byte == 0x2B else {
                    throw .invalidFilter("unexpected character \(Self.describe(byte)) in the filter")
                }
                let start = index
                while index < bytes.count, SCIMAttributePath.isPathByte(bytes[index]) || bytes[index] == 0x2B {
                    index += 1
                }
                tokens.append(.word(String(decoding: bytes[start..<index], as: UTF8.self)))
            }
        }
        return tokens
    }

    static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "\"\(Character(Unicode.Scalar(byte)))\"" : "0x" + String(byte, radix: 16)
    }

    /// A JSON string literal starting at `start` (the opening quote): its text and the index
    /// after the closing quote.
    static func string(_ bytes: [UInt8], from start: Int) throws(SCIMFailure) -> (String, Int) {
        var scalars = String.UnicodeScalarView()
        var index = start + 1
        var pendingHigh: UInt32?
        var run: [UInt8] = []
        func flush() {
            if !run.isEmpty {
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                run.removeAll()
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                guard pendingHigh == nil else { throw .invalidFilter("a string holds half of a surrogate pair") }
                flush()
                return (String(scalars), index + 1)
            }
            if byte < 0x20 { throw .invalidFilter("a string holds a control character") }
            if byte != 0x5C {
                guard pendingHigh == nil else { throw .invalidFilter("a string holds half of a surrogate pair") }
                run.append(byte)
                index += 1
                continue
            }
            flush()
            guard index + 1 < bytes.count else { break }
            let escaped = bytes[index + 1]
            index += 2
            var scalar: Unicode.Scalar?
            switch escaped {
            case 0x22: scalar = "\""
            case 0x5C: scalar = "\\"
            case 0x2F: scalar = "/"
            case 0x62: scalar = "\u{08}"
            case 0x66: scalar = "\u{0C}"
            case 0x6E: scalar = "\n"
            case 0x72: scalar = "\r"
            case 0x74: scalar = "\t"
            case 0x75:
                guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                    throw .invalidFilter("a string holds a malformed \\u escape")
                }
                index += 4
                if let high = pendingHigh {
                    guard (0xDC00...0xDFFF).contains(code) else { throw .invalidFilter("a string holds half of a surrogate pair") }
                    pendingHigh = nil
                    scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
                } else if (0xD800...0xDBFF).contains(code) {
                    pendingHigh = code
                    continue
                } else {
                    guard let value = Unicode.Scalar(code) else { throw .invalidFilter("a string holds half of a surrogate pair") }
                    scalar = value
                }
            default:
                throw .invalidFilter("a string holds an unknown escape \\\(Character(Unicode.Scalar(escaped)))")
            }
            guard pendingHigh == nil || escaped == 0x75 else { throw .invalidFilter("a string holds half of a surrogate pair") }
            if let scalar { scalars.append(scalar) }
        }
        throw .invalidFilter("a string is not closed")
    }
}

extension SCIMFilter {
    /// Parses a filter; a malformed one is refused with `invalidFilter` and what is wrong.
    public init(parsing text: some StringProtocol) throws(SCIMFailure) {
        self = try SCIMFilterParser.parse(text)
    }
}
