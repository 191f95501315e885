@testable import PortcullisCore
import Testing

/// Adversarial review of issue 21 (second round): since 5be8118 a header is compared only with
/// the listed names of its first letter. No spelling of a listed name may fall out of its
/// family by that: every mix of letter case and `_`/`-` of every name (and of every family
/// prefix) is classified as comparing it with all the lists would, and so is every first byte.
@Suite("HeaderRules by first letter: no spelling slips past")
struct HeaderRulesByInitialTests {
    /// Comparing with every list, as before 5be8118.
    static func reference(_ name: String) -> HeaderRules.Disposition {
        let folded = String(decoding: name.utf8.map { byte -> UInt8 in
            if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { return byte | 0x20 }
            return byte
        }, as: UTF8.self)
        if (HeaderRules.identityPrefixes + HeaderRules.otherIdentityPrefixes).contains(where: { folded.hasPrefix($0) })
            || HeaderRules.identityNames.contains(folded) { return .identity }
        if folded.hasPrefix(HeaderRules.forwardingPrefix) || HeaderRules.forwardingNames.contains(folded) { return .forwarding }
        if HeaderRules.overrideNames.contains(folded) || HeaderRules.overridePrefixes.contains(where: { folded.hasPrefix($0) }) { return .override }
        if HeaderRules.hopByHop.contains(folded) { return .hopByHop }
        return .forward
    }

    /// Up to 256 spellings: each letter's case and each `-` as `-` or `_`, chosen by the bits of
    /// a counter (the first bits on the first positions, so the first letter varies).
    static func spellings(_ canonical: String) -> [String] {
        let bytes = Array(canonical.utf8)
        let variable = bytes.indices.filter { bytes[$0] == UInt8(ascii: "-") || (bytes[$0] >= 0x61 && bytes[$0] <= 0x7A) }
        let count = min(1 << min(variable.count, 8), 256)
        return (0..<count).map { mask in
            var spelled = bytes
            for (bit, index) in variable.prefix(8).enumerated() where mask & (1 << bit) != 0 {
                spelled[index] = spelled[index] == UInt8(ascii: "-") ? UInt8(ascii: "_") : spelled[index] & ~0x20
            }
            // The rest: alternate, so long names are mixed all along.
            for (offset, index) in variable.dropFirst(8).enumerated() where (offset + mask) % 2 == 1 {
                spelled[index] = spelled[index] == UInt8(ascii: "-") ? UInt8(ascii: "_") : spelled[index] & ~0x20
            }
            return String(decoding: spelled, as: UTF8.self)
        }
    }

    static let canonicalNames: [String] = HeaderRules.identityNames + HeaderRules.forwardingNames + HeaderRules.overrideNames
        + Array(HeaderRules.hopByHop) + HeaderRules.identityPrefixes.map { $0 + "user" } + HeaderRules.otherIdentityPrefixes.map { $0 + "user" }
        + HeaderRules.overridePrefixes.map { $0 + "internal" }
        + [HeaderRules.forwardingPrefix + "host", "x-portcullis-caller-auth-time", "x-portcullis-caller-user", "x-portcullis-internal-token"]

    @Test("every spelling of every listed name is in its family")
    func everySpelling() {
        var wrong: [String] = []
        for canonical in Self.canonicalNames {
            let expected = Self.reference(canonical)
            #expect(expected != .forward, "\(canonical) is listed")
            for spelling in Self.spellings(canonical) where HeaderRules.disposition(ofRequestHeader: spelling) != expected {
                wrong.append("\(spelling): \(HeaderRules.disposition(ofRequestHeader: spelling)), expected \(expected)")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(20))")
    }

    @Test("every first byte: a name is classified as comparing with all the lists would")
    func everyFirstByte() {
        var wrong: [String] = []
        for canonical in Self.canonicalNames {
            let rest = String(canonical.dropFirst())
            for first in UInt8(0x21)...UInt8(0x7E) {
                let name = String(decoding: [first], as: UTF8.self) + rest
                if HeaderRules.disposition(ofRequestHeader: name) != Self.reference(name) { wrong.append(name) }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(20))")
    }
}
