/// Escaping for text placed in a JSON string: of a response body (HTML-safe too) and of a
/// log line.
package enum JSONText {
    package static func escape(_ text: String) -> String {
        var result = ""
        appendEscaped(text, to: &result, htmlSafe: true)
        return result
    }

    /// Appends `text` escaped for a JSON string. `htmlSafe` also escapes `<`, `>` and `&`, for
    /// JSON that a browser might be talked into reading as HTML.
    package static func appendEscaped(_ text: String, to line: inout String, htmlSafe: Bool = false) {
        var clean = true
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || (htmlSafe && (byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&"))) {
            clean = false
            break
        }
        if clean {
            line += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            default:
                if scalar.value < 0x20 || (htmlSafe && (scalar == "<" || scalar == ">" || scalar == "&")) {
                    line += "\\u00"
                    line += scalar.value < 0x10 ? "0" : ""
                    line += String(scalar.value, radix: 16)
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
    }
}
