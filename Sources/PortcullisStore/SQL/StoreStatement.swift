/// An SQL statement written once for SQLite and PostgreSQL. Values are never part of the text:
/// they are bound as `$1`, `$2`, … (PostgreSQL's spelling; SQLite is given `?1`, `?2`, …, which
/// bind by number too). Where the dialects differ, the text interpolates a
/// ``StoreDialect/Fragment``; interpolating another statement splices its text in (shared column
/// lists). Nothing else can be interpolated, so no value can reach the SQL text.
package struct StoreStatement: ExpressibleByStringInterpolation, Sendable {
    enum Piece: Sendable {
        case text(String)
        case fragment(StoreDialect.Fragment)
    }

    private(set) var pieces: [Piece]

    package init(stringLiteral value: String) {
        pieces = [.text(value)]
    }

    package init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []

        package init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        package mutating func appendLiteral(_ literal: String) {
            pieces.append(.text(literal))
        }

        package mutating func appendInterpolation(_ fragment: StoreDialect.Fragment) {
            pieces.append(.fragment(fragment))
        }

        package mutating func appendInterpolation(_ statement: StoreStatement) {
            pieces.append(contentsOf: statement.pieces)
        }
    }

    /// The text in a dialect.
    func text(for dialect: StoreDialect) -> String {
        var result = ""
        for piece in pieces {
            switch piece {
            case .text(let text): result += dialect == .sqlite ? Self.numberedForSQLite(text) : text
            case .fragment(let fragment): result += dialect.write(fragment)
            }
        }
        return result
    }

    /// `$1` → `?1` outside quoted literals and identifiers: SQLite reads `$1` as a parameter
    /// *named* "$1" and numbers named parameters in order of first use, so `$2 … $1` would bind
    /// the wrong values; `?1` is parameter 1 wherever it stands.
    static func numberedForSQLite(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "$")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var quote: UInt8?
        var previous: UInt8 = 0
        for byte in utf8 {
            if let open = quote {
                if byte == open { quote = nil }
                bytes.append(byte)
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
                bytes.append(byte)
            } else if previous == UInt8(ascii: "$"), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                bytes[bytes.count - 1] = UInt8(ascii: "?")
                bytes.append(byte)
            } else {
                bytes.append(byte)
            }
            previous = byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
