/// A lexical pass over YAML text before it reaches the parser, refusing the constructs that
/// make parsing super-linear: aliases used as mapping keys and explicit `?` keys (the
/// parser hashes keys to find duplicates, and hashing an aliased collection walks its whole
/// expansion). Aliases as values are allowed; their expansion is bounded later, when the
/// document is converted.
enum YAMLSafetyScan {
    struct Finding: Error {
        let line: Int
        let column: Int
        let message: String
    }

    static func check(_ text: String) -> Finding? {
        let bytes = Array(text.utf8)
        var index = 0
        var line = 1
        var lineStart = 0
        var atNodeStart = true
        var blockScalarIndent: Int?

        func column(_ at: Int) -> Int { at - lineStart + 1 }
        func isSpace(_ at: Int) -> Bool { at >= bytes.count || bytes[at] == 0x20 || bytes[at] == 0x09 || bytes[at] == 0x0A || bytes[at] == 0x0D }
        func isNameByte(_ byte: UInt8) -> Bool {
            !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: ",")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "{")
                || byte == UInt8(ascii: "}"))
        }

        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A {
                index += 1
                line += 1
                lineStart = index
                atNodeStart = true
                // Skip the content lines of a block scalar: those indented more than its parent.
                if let parentIndent = blockScalarIndent {
                    while index < bytes.count {
                        var probe = index
                        while probe < bytes.count, bytes[probe] == 0x20 { probe += 1 }
                        let indent = probe - index
                        let blank = probe >= bytes.count || bytes[probe] == 0x0A || bytes[probe] == 0x0D
                        guard blank || indent > parentIndent else { break }
                        while probe < bytes.count, bytes[probe] != 0x0A { probe += 1 }
                        index = min(probe + 1, bytes.count)
                        line += 1
                        lineStart = index
                    }
                    blockScalarIndent = nil
                }
                continue
            }
            if byte == 0x20 || byte == 0x09 || byte == 0x0D {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "#"), index == lineStart || isSpace(index - 1) {
                while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                continue
            }
            if atNodeStart {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                        if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                        if index < bytes.count, bytes[index] == 0x0A { line += 1; lineStart = index + 1 }
                        index += 1
                    }
                    index += 1
                    atNodeStart = false
                    continue
                case UInt8(ascii: "'"):
                    index += 1
                    while index < bytes.count {
                        if bytes[index] == UInt8(ascii: "'") {
                            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") {
                                index += 2
                                continue
                            }
                            break
                        }
                        if bytes[index] == 0x0A { line += 1; lineStart = index + 1 }
                        index += 1
                    }
                    index += 1
                    atNodeStart = false
                    continue
                case UInt8(ascii: "?") where isSpace(index + 1):
                    return Finding(line: line, column: column(index), message: "explicit mapping keys (?) are not supported")
                case UInt8(ascii: "-") where isSpace(index + 1):
                    index += 1
                    continue
                case UInt8(ascii: "*"):
                    let start = index
                    index += 1
                    while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
                    var probe = index
                    while probe < bytes.count, bytes[probe] == 0x20 || bytes[probe] == 0x09 { probe += 1 }
                    if probe < bytes.count, bytes[probe] == UInt8(ascii: ":") {
                        return Finding(line: line, column: column(start), message: "an alias (*name) may not be used as a mapping key")
                    }
                    atNodeStart = false
                    continue
                case UInt8(ascii: "&"), UInt8(ascii: "!"):
                    // Node properties: the node itself follows.
                    while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
                    continue
                case UInt8(ascii: "|"), UInt8(ascii: ">"):
                    var indent = 0
                    while lineStart + indent < bytes.count, bytes[lineStart + indent] == 0x20 { indent += 1 }
                    blockScalarIndent = indent
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                    continue
                case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","):
                    index += 1
                    continue
                default:
                    atNodeStart = false
                }
            }
            // Inside a plain scalar or after a node: look for what starts the next node.
            switch byte {
            case UInt8(ascii: ":") where isSpace(index + 1):
                atNodeStart = true
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","):
                atNodeStart = true
            case UInt8(ascii: ":") where index + 1 < bytes.count && (bytes[index + 1] == UInt8(ascii: ",") || bytes[index + 1] == UInt8(ascii: "}")):
                atNodeStart = true
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
