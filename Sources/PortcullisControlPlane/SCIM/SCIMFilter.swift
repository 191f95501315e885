import Foundation
import PortcullisDataPath

/// The filters Portcullis answers (RFC 7644 §3.4.2.2): `attribute eq "value"` on `userName`,
/// `displayName`, `externalId` and `id`, the forms identity providers send to find a resource
/// before creating it. Anything else is refused with `invalidFilter`, never ignored.
struct SCIMFilter: Hashable, Sendable {
    enum Attribute: String, Sendable {
        case userName = "username"
        case displayName = "displayname"
        case externalId = "externalid"
        case id
    }

    let attribute: Attribute
    let value: String

    static let maximumLength = 1_024

    init(parsing text: String) throws(SCIMError) {
        guard text.utf8.count <= Self.maximumLength else { throw .invalidFilter("the filter is too long") }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count == 3, parts[1].lowercased() == "eq" else {
            throw .invalidFilter("only filters of the form attribute eq \"value\" are supported")
        }
        guard let attribute = Attribute(rawValue: parts[0].lowercased()) else {
            throw .invalidFilter("filtering on \(parts[0].prefix(64)) is not supported; use userName, displayName, externalId or id")
        }
        let quoted = parts[2]
        guard quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" else {
            throw .invalidFilter("the value must be a quoted string")
        }
        var value = ""
        var escaped = false
        for character in quoted.dropFirst().dropLast() {
            if escaped {
                value.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                throw .invalidFilter("unexpected quote inside the value")
            } else {
                value.append(character)
            }
        }
        guard !escaped else { throw .invalidFilter("the value ends with a lone backslash") }
        self.attribute = attribute
        self.value = value
    }
}
