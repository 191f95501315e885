/// An attribute path as clients write it (RFC 7644 §3.10): `[URN ":"] attribute ["." sub]`,
/// for example `userName`, `name.givenName`, `emails.value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`. Resolved against a
/// resource type with ``SCIMResourceType/resolve(_:)``.
public struct SCIMAttributePath: Hashable, Sendable, CustomStringConvertible {
    /// As written.
    public let text: String
    /// The schema URN before the attribute, when the path has one.
    public let urn: String?
    public let attribute: String
    public let subAttribute: String?

    public static let maximumLength = 512

    public init(parsing text: some StringProtocol) throws(SCIMFailure) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else {
            throw .invalidPath("an attribute path must be 1 to \(Self.maximumLength) bytes")
        }
        guard text.utf8.allSatisfy(Self.isPathByte) else {
            throw .invalidPath("\(SCIMFailure.quoted(text)) is not an attribute path")
        }
        var rest = Substring(text)
        var urn: String?
        if SCIMName.hasPrefix(text, "urn:") {
            // The attribute follows the URN's last colon; a bare URN names an extension.
            guard let colon = rest.lastIndex(of: ":") else { throw .invalidPath("\(SCIMFailure.quoted(text)) is not an attribute path") }
            urn = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ Self.isName($0) }) else {
            throw .invalidPath("\(SCIMFailure.quoted(text)) is not an attribute path")
        }
        self.text = text
        self.urn = urn
        self.attribute = String(parts[0])
        self.subAttribute = parts.count == 2 ? String(parts[1]) : nil
    }

    public init(urn: String? = nil, attribute: String, subAttribute: String? = nil) {
        self.urn = urn
        self.attribute = attribute
        self.subAttribute = subAttribute
        text = (urn.map { $0 + ":" } ?? "") + attribute + (subAttribute.map { "." + $0 } ?? "")
    }

    public var description: String { text }

    /// The same path below another attribute: `value` inside `emails[…]` is `emails.value`.
    public func nested(under parent: SCIMAttributePath) throws(SCIMFailure) -> SCIMAttributePath {
        guard urn == nil, subAttribute == nil, parent.subAttribute == nil else {
            throw .invalidFilter("\(SCIMFailure.quoted(text)) cannot be used inside \(SCIMFailure.quoted(parent.text))[…]")
        }
        return SCIMAttributePath(urn: parent.urn, attribute: parent.attribute, subAttribute: attribute)
    }

    /// ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; plus `$ref`.
    static func isName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first else { return false }
        if name == "$ref" { return true }
        guard isAlpha(first) else { return false }
        return name.utf8.allSatisfy { isAlpha($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }

    static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    /// Bytes a path may contain: names, `$`, `.`, `:` and what URNs carry.
    static func isPathByte(_ byte: UInt8) -> Bool {
        isAlpha(byte) || (0x30...0x39).contains(byte) || [0x2D, 0x5F, 0x24, 0x2E, 0x3A].contains(byte)
    }
}
