import Foundation
import PortcullisCore

/// How values become columns, the same for SQLite and PostgreSQL.
enum StoreCoding {
    static func secondaryText(_ roles: Set<SecondaryRole>) -> String {
        roles.map(\.rawValue).sorted().joined(separator: ",")
    }

    static func secondaryRoles(_ text: String?) -> Set<SecondaryRole> {
        guard let text, !text.isEmpty else { return [] }
        return Set(text.split(separator: ",").compactMap { SecondaryRole(rawValue: String($0)) })
    }

    static func primaryRole(_ text: String?) -> PrimaryRole? {
        text.flatMap(PrimaryRole.init(rawValue:))
    }

    /// Coordinates are kept to a tenth of a degree, as in the session history.
    static func locationJSON(_ location: GeoLocation) -> String {
        var location = location
        location.coordinates = location.coordinates?.coarsened
        guard let data = try? JSONEncoder().encode(location) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func location(_ json: String?) -> GeoLocation {
        guard let json, let location = try? JSONDecoder().decode(GeoLocation.self, from: Data(json.utf8)) else { return .unknown }
        return location
    }

    static func address(_ text: String?) -> IPAddress {
        text.flatMap { try? IPAddress(parsing: $0) } ?? IPAddress(ipv6: 0)
    }

    static func seconds(_ date: Date) -> Double { date.timeIntervalSince1970 }

    static func date(_ seconds: Double?) -> Date? { seconds.map(Date.init(timeIntervalSince1970:)) }

    static func json<T: Encodable>(_ value: T) -> String {
        guard let data = try? JSONEncoder().encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String?) -> T? {
        guard let json else { return nil }
        return try? JSONDecoder().decode(type, from: Data(json.utf8))
    }

    /// A value as JSON, for audit entries.
    static func jsonValue<T: Encodable>(_ value: T) -> JSONValue {
        guard let data = try? JSONEncoder().encode(value),
              let decoded = try? JSONDecoder().decode(JSONValue.self, from: data) else { return .null }
        return decoded
    }

    /// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
    static func likeEscaped(_ text: String) -> String {
        var result = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// A provisioned user, for audit entries.
    static func provisioned(_ user: ProvisionedUser, outcome: DeprovisioningOutcome = .none) -> JSONValue {
        var object: [String: JSONValue] = [
            "user_name": .string(user.email), "active": .bool(user.active),
            "name": user.name.map(JSONValue.string) ?? .null, "department": user.department.map(JSONValue.string) ?? .null,
            "external_id": user.externalID.map(JSONValue.string) ?? .null,
        ]
        if !outcome.revokedSessions.isEmpty || outcome.revokedTokens > 0 {
            object["revoked_sessions"] = .number(Double(outcome.revokedSessions.count))
            object["revoked_tokens"] = .number(Double(outcome.revokedTokens))
        }
        return .object(object)
    }

    /// A group's members by email, for audit entries.
    static func members(_ group: ProvisionedGroup) -> JSONValue {
        .object(["display_name": .string(group.group.name), "members": .array(group.members.map { .string($0.email) })])
    }

    /// Emails compare by ASCII case folding only (``EmailAddress``).
    static func emailKey(_ email: String) -> String { EmailAddress.key(email) }

    /// For a non-ASCII address: what it folds to under Unicode compatibility and case folding
    /// (`\u{212A}elvin@example.com` → `kelvin@example.com`), when that is plain ASCII and differs
    /// from its own key. Such an address is refused when an account holds the folded one.
    static func lookalikeKey(_ email: String) -> String? {
        guard !EmailAddress.isASCII(email) else { return nil }
        let folded = email.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive, .widthInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping
        guard EmailAddress.isASCII(folded) else { return nil }
        let key = EmailAddress.key(folded)
        return key == emailKey(email) ? nil : key
    }

    /// A SCIM document as stored.
    static func documentText(_ document: [String: JSONValue]) -> String? {
        guard !document.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(document) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func document(_ text: String?) -> [String: JSONValue]? {
        guard let text else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
    }

    /// A group's mapping for one source, for audit entries: the roles with the source beside
    /// them; `null` for no mapping.
    static func mapping(_ assignment: RoleAssignment?, source: GroupSource) -> JSONValue {
        guard let assignment, case .object(var fields) = jsonValue(assignment) else { return .null }
        fields["source"] = .string(source.rawValue)
        return .object(fields)
    }
}
