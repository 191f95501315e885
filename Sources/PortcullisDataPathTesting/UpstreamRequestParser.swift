/// What an upstream reads from a byte stream the gateway sent: a strict HTTP/1.1 request
/// parser of its own (RFC 9112), independent of the llhttp parser the gateway uses, for the
/// differential and fuzz tests. It splits a connection's bytes into requests exactly as a
/// conforming server would, and reports anything a lenient server might read differently
/// (two framings, duplicate lengths, bare LF, obs-fold, control bytes) as a violation: the
/// gateway must never send such a message.
package struct UpstreamRequestParser {
    package struct Request: Hashable, Sendable, CustomStringConvertible {
        package var method: String
        package var target: String
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]

        package func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        package var description: String { "\(method) \(target)" }

        package static func == (lhs: Request, rhs: Request) -> Bool {
            lhs.method == rhs.method && lhs.target == rhs.target && lhs.body == rhs.body
                && lhs.headers.map { "\($0.name):\($0.value)" } == rhs.headers.map { "\($0.name):\($0.value)" }
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(method)
            hasher.combine(target)
        }
    }

    package struct Result: Sendable {
        /// Complete requests, in order.
        package var requests: [Request] = []
        /// The start of a request whose end never came (the connection was cut), if any.
        package var partial: Request?
        /// Bytes that are not a request at all, or framing a server could read two ways.
        package var violations: [String] = []
    }

    /// Parses all the bytes one upstream connection received.
    package static func parse(_ bytes: [UInt8]) -> Result {
        var result = Result()
        var index = 0
        while index < bytes.count {
            switch parseOne(bytes, from: index) {
            case .complete(let request, let next):
                result.requests.append(request)
                index = next
            case .incomplete(let request):
                result.partial = request
                return result
            case .violation(let message):
                result.violations.append(message)
                return result
            }
        }
        return result
    }

    private enum Step {
        case complete(Request, next: Int)
        case incomplete(Request?)
        case violation(String)
    }

    private static func parseOne(_ bytes: [UInt8], from start: Int) -> Step {
        // The head ends at the first CRLF CRLF; every line must end in CRLF.
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        var index = start
        var headEnd: Int?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A {
                guard index - 1 >= lineStart, bytes[index - 1] == 0x0D else {
                    return .violation("bare LF in the head at byte \(index)")
                }
                let line = bytes[lineStart..<(index - 1)]
                if line.isEmpty {
                    headEnd = index + 1
                    break
                }
                lines.append(line)
                lineStart = index + 1
            } else if byte == 0x0D {
                if index + 1 < bytes.count, bytes[index + 1] != 0x0A { return .violation("bare CR in the head at byte \(index)") }
            } else if byte == 0 || (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                return .violation("control byte \(byte) in the head at byte \(index)")
            }
            index += 1
        }
        guard let headEnd else { return .incomplete(nil) }
        guard let requestLine = lines.first else { return .violation("empty request line") }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].elementsEqual("HTTP/1.1".utf8) else {
            return .violation("request line is not `METHOD target HTTP/1.1`: \(String(decoding: requestLine, as: UTF8.self))")
        }
        var request = Request(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self), headers: [], body: []
        )
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte), request.target.hasPrefix("/") else {
            return .violation("bad method or target: \(request.method) \(request.target)")
        }
        for line in lines.dropFirst() {
            if line.first == 0x20 || line.first == 0x09 { return .violation("obs-fold line") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .violation("header line without a colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                return .violation("header name that is not a token: \(String(decoding: name, as: UTF8.self))")
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            request.headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        // Framing: a server that tolerates anything here could read a different body.
        let lengths = request.values("content-length")
        let codings = request.values("transfer-encoding")
        if request.values("host").count != 1 { return .violation("\(request.values("host").count) Host headers") }
        if !lengths.isEmpty, !codings.isEmpty { return .violation("Content-Length and Transfer-Encoding together") }
        if lengths.count > 1 { return .violation("\(lengths.count) Content-Length headers") }
        if codings.count > 1 { return .violation("\(codings.count) Transfer-Encoding headers") }
        for (name, _) in request.headers {
            let normalized = String(name.lowercased().map { $0 == "_" ? "-" : $0 })
            if normalized != name.lowercased(), normalized == "content-length" || normalized == "transfer-encoding" {
                return .violation("a header that looks like framing: \(name)")
            }
        }
        if let coding = codings.first {
            guard coding.lowercased() == "chunked" else { return .violation("Transfer-Encoding: \(coding)") }
            return parseChunked(bytes, from: headEnd, request: request)
        }
        if let text = lengths.first {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.utf8.count < 16, let length = Int(text) else {
                return .violation("Content-Length: \(text)")
            }
            guard bytes.count - headEnd >= length else {
                request.body = Array(bytes[headEnd...])
                return .incomplete(request)
            }
            request.body = Array(bytes[headEnd..<(headEnd + length)])
            return .complete(request, next: headEnd + length)
        }
        return .complete(request, next: headEnd)
    }

    private static func parseChunked(_ bytes: [UInt8], from start: Int, request: Request) -> Step {
        var request = request
        var index = start
        while true {
            guard let lineEnd = findCRLF(bytes, from: index) else { return .incomplete(request) }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
            let hex = sizeText.prefix { $0 != ";" }
            guard !hex.isEmpty, hex.count <= 15, let size = Int(hex, radix: 16) else { return .violation("chunk size: \(sizeText)") }
            index = lineEnd + 2
            if size == 0 {
                // Trailers, then the final CRLF. The gateway sends none.
                guard let end = findCRLF(bytes, from: index) else { return .incomplete(request) }
                guard end == index else { return .violation("trailers after the last chunk") }
                return .complete(request, next: end + 2)
            }
            guard bytes.count >= index + size + 2 else {
                request.body.append(contentsOf: bytes[index..<min(bytes.count, index + size)])
                return .incomplete(request)
            }
            request.body.append(contentsOf: bytes[index..<(index + size)])
            guard bytes[index + size] == 0x0D, bytes[index + size + 1] == 0x0A else { return .violation("chunk not followed by CRLF") }
            index += size + 2
        }
    }

    private static func findCRLF(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A { return index }
            if bytes[index] == 0x0A { return nil }
            index += 1
        }
        return nil
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
