import NIOHTTP1

/// How a client's request body is delimited, as the parser saw it (RFC 9112 §6.3), and so the
/// one framing the request sent upstream carries:
/// - a length: `Content-Length: N`;
/// - a body of unknown length (HTTP/1.1 chunked; HTTP/2 HEADERS without END_STREAM and no
///   `content-length`): `Transfer-Encoding: chunked`;
/// - no body: no framing header (`Content-Length: 0` for methods whose requests always carry
///   one, so no encoder invents a framing of its own).
///
/// The HTTP/1.1 parser (llhttp) reads exactly the header names `Content-Length` and
/// `Transfer-Encoding` in any letter case and refuses a message with both, or with a
/// `Transfer-Encoding` that does not end in `chunked`. The HTTP/2 stream codec states its
/// framing the same way: `transfer-encoding: chunked` when DATA may follow without a length
/// (HTTP/2 itself forbids the header, so a client cannot send it). What this type reads is
/// therefore what the parser framed the body by; anything that merely resembles a framing
/// header (`Content_Length`, `Transfer-Encoding ` …) never counts and never travels on.
enum RequestFraming: Hashable, Sendable {
    case none
    case length(Int)
    case chunked

    /// Why a request's framing cannot be trusted. Each closes the client connection.
    enum Problem: String, Hashable, Sendable, Error {
        /// `Content-Length` and `Transfer-Encoding` together (RFC 9112 §6.1: a smuggling sign).
        case lengthAndChunked = "ambiguous_framing"
        /// Several `Content-Length` values that differ, or one that is not a number.
        case badContentLength = "bad_content_length"
        /// A transfer coding other than exactly `chunked`, or `chunked` on HTTP/1.0.
        case unsupportedTransferEncoding = "unsupported_transfer_encoding"
    }

    /// The largest `Content-Length` accepted (what fits an `Int` with room to spare).
    static let maximumLength = 1 << 52

    /// The framing of a request head from the HTTP/1.1 decoder or the HTTP/2 stream codec.
    static func of(_ head: HTTPRequestHead) -> Result<RequestFraming, Problem> {
        var length: Int?
        var sawChunked = false
        var sawTransferEncoding = false
        for (name, value) in head.headers {
            if Self.isExactly(name, "content-length") {
                guard let parsed = Self.parseLength(value) else { return .failure(.badContentLength) }
                if let earlier = length, earlier != parsed { return .failure(.badContentLength) }
                length = parsed
            } else if Self.isExactly(name, "transfer-encoding") {
                if sawTransferEncoding { return .failure(.unsupportedTransferEncoding) }
                sawTransferEncoding = true
                guard Self.isExactly(Self.trimmed(value), "chunked") else { return .failure(.unsupportedTransferEncoding) }
                sawChunked = true
            }
        }
        if sawChunked {
            if length != nil { return .failure(.lengthAndChunked) }
            if head.version.major == 1, head.version.minor == 0 { return .failure(.unsupportedTransferEncoding) }
            return .success(.chunked)
        }
        if let length { return .success(length == 0 ? .none : .length(length)) }
        return .success(.none)
    }

    /// Methods whose requests carry a body by their nature: without one they are sent upstream
    /// with `Content-Length: 0`.
    static func expectsBody(_ method: HTTPMethod) -> Bool {
        switch method {
        case .POST, .PUT, .PATCH: true
        default: false
        }
    }

    /// `Content-Length` is one or more digits and nothing else.
    static func parseLength(_ value: String) -> Int? {
        let text = trimmed(value)
        guard !text.isEmpty, text.utf8.count <= 16 else { return nil }
        var result = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            result = result * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return result <= maximumLength ? result : nil
    }

    /// Compares a header name with a lower-case name, ASCII letters in either case, nothing else
    /// folded: this is how the parser matched it.
    static func isExactly<S: StringProtocol>(_ name: S, _ lowercased: String) -> Bool {
        let bytes = name.utf8
        guard bytes.count == lowercased.utf8.count else { return false }
        var index = lowercased.utf8.startIndex
        for byte in bytes {
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded != lowercased.utf8[index] { return false }
            index = lowercased.utf8.index(after: index)
        }
        return true
    }

    private static func trimmed(_ value: String) -> Substring {
        var text = value[...]
        while let first = text.utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { text = text.dropFirst() }
        while let last = text.utf8.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { text = text.dropLast() }
        return text
    }
}
