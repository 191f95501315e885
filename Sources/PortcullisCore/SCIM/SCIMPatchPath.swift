/// The `path` of a PATCH operation (RFC 7644 §3.5.2): `attrPath`, or
/// `attrPath "[" valFilter "]" ["." subAttr]`, for example `name.givenName`,
/// `members[value eq "2819c223"]`, `emails[type eq "work"].value`.
public struct SCIMPatchPath: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let attribute: SCIMAttributePath
    /// Which values of a multi-valued attribute the operation applies to.
    public let filter: SCIMFilter?
    /// The sub-attribute after a filter (`.value`).
    public let subAttribute: String?

    public init(parsing text: some StringProtocol) throws(SCIMFailure) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= SCIMFilter.maximumLength else {
            throw .invalidPath("path must be 1 to \(SCIMFilter.maximumLength) bytes")
        }
        self.text = text
        guard let open = text.firstIndex(of: "[") else {
            attribute = try SCIMAttributePath(parsing: text)
            filter = nil
            subAttribute = nil
            return
        }
        guard let close = text.lastIndex(of: "]"), close > open else {
            throw .invalidPath("\(SCIMFailure.quoted(text)) opens \"[\" without closing it")
        }
        let base = try SCIMAttributePath(parsing: text[..<open])
        guard base.subAttribute == nil else {
            throw .invalidPath("\(SCIMFailure.quoted(text)): a filter follows an attribute, not a sub-attribute")
        }
        attribute = base
        do {
            filter = try SCIMFilter(parsing: text[text.index(after: open)..<close])
        } catch {
            throw .invalidPath("\(SCIMFailure.quoted(text)): \(error.detail)")
        }
        let rest = text[text.index(after: close)...]
        if rest.isEmpty {
            subAttribute = nil
        } else {
            guard rest.hasPrefix("."), SCIMAttributePath.isName(rest.dropFirst()) else {
                throw .invalidPath("\(SCIMFailure.quoted(text)): only \".subAttribute\" may follow \"]\"")
            }
            subAttribute = String(rest.dropFirst())
        }
    }

    public var description: String { text }
}
