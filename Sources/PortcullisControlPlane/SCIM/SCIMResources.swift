import Foundation
import PortcullisCore
import PortcullisDataPath

/// SCIM resources as JSON (RFC 7643): users and groups out, and the fields Portcullis keeps
/// read back in, checked.
enum SCIMResources {
    static let userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    static let listSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    static let patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    static let errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

    static func timestamp(_ date: Date) -> JSONValue {
        .string(date.formatted(.iso8601))
    }

    static func user(_ user: UserRecord, groups: [GroupRecord], base: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "schemas": .array([.string(userSchema), .string(enterpriseSchema)]),
            "id": .string(user.id),
            "userName": .string(user.email),
            "active": .bool(user.active),
            "emails": .array([.object(["value": .string(user.email), "primary": .bool(true), "type": .string("work")])]),
            "groups": .array(groups.map { .object(["value": .string($0.id), "display": .string($0.name), "$ref": .string("\(base)/Groups/\($0.id)")]) }),
            "meta": .object([
                "resourceType": .string("User"), "created": timestamp(user.createdAt),
                "lastModified": timestamp(user.lastLoginAt ?? user.createdAt), "location": .string("\(base)/Users/\(user.id)"),
            ]),
        ]
        if let externalID = user.externalID { object["externalId"] = .string(externalID) }
        if let name = user.name {
            object["displayName"] = .string(name)
            object["name"] = .object(["formatted": .string(name)])
        }
        if let department = user.department { object[enterpriseSchema] = .object(["department": .string(department)]) }
        return .object(object)
    }

    static func group(_ group: ProvisionedGroup, base: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "schemas": .array([.string(groupSchema)]),
            "id": .string(group.group.id),
            "displayName": .string(group.group.name),
            "members": .array(group.members.map {
                .object(["value": .string($0.id), "display": .string($0.email), "$ref": .string("\(base)/Users/\($0.id)"), "type": .string("User")])
            }),
            "meta": .object(["resourceType": .string("Group"), "location": .string("\(base)/Groups/\(group.group.id)")]),
        ]
        if let externalID = group.group.externalID { object["externalId"] = .string(externalID) }
        return .object(object)
    }

    static func list(_ resources: [JSONValue], total: Int, startIndex: Int) -> JSONValue {
        .object([
            "schemas": .array([.string(listSchema)]),
            "totalResults": .number(Double(total)),
            "startIndex": .number(Double(startIndex)),
            "itemsPerPage": .number(Double(resources.count)),
            "Resources": .array(resources),
        ])
    }

    // MARK: - reading

    /// The fields of a User body that Portcullis keeps. `userName` is required.
    static func provisionedUser(from body: JSONValue) throws(SCIMError) -> ProvisionedUser {
        guard let object = body.objectValue else { throw .invalidSyntax("the body must be a JSON object") }
        let fields = caseInsensitive(object)
        guard let userName = fields["username"]?.stringValue else { throw .invalidValue("userName is required and must be a string") }
        var user = ProvisionedUser(email: try cleanText(userName, field: "userName", maximum: 254))
        try apply(fields, to: &user)
        return user
    }

    /// Applies whichever of the kept attributes `fields` names (keys lower-cased).
    static func apply(_ fields: [String: JSONValue], to user: inout ProvisionedUser) throws(SCIMError) {
        if let value = fields["username"] {
            guard let text = value.stringValue else { throw .invalidValue("userName must be a string") }
            user.email = try cleanText(text, field: "userName", maximum: 254)
        }
        if let value = fields["active"] { user.active = try boolean(value, field: "active") }
        if let value = fields["externalid"] { user.externalID = try optionalText(value, field: "externalId", maximum: 255) }
        if let name = fields["name"] {
            guard let parts = name.objectValue.map(caseInsensitive) else { throw .invalidValue("name must be an object") }
            if let formatted = parts["formatted"] {
                user.name = try optionalText(formatted, field: "name.formatted", maximum: 255)
            } else {
                let given = try parts["givenname"].flatMap { value throws(SCIMError) in try optionalText(value, field: "name.givenName", maximum: 127) }
                let family = try parts["familyname"].flatMap { value throws(SCIMError) in try optionalText(value, field: "name.familyName", maximum: 127) }
                let joined = [given, family].compactMap { $0 }.joined(separator: " ")
                if !joined.isEmpty { user.name = joined }
            }
        }
        // Portcullis keeps one name: displayName wins over name when a body sends both.
        if let value = fields["displayname"] { user.name = try optionalText(value, field: "displayName", maximum: 255) }
        if let enterprise = fields[enterpriseSchema.lowercased()] {
            guard let extensionFields = enterprise.objectValue.map(caseInsensitive) else { throw .invalidValue("the enterprise extension must be an object") }
            if let department = extensionFields["department"] {
                user.department = try optionalText(department, field: "department", maximum: 255)
            }
        }
    }

    /// `true`, `false`, and the strings `"True"`/`"False"` some identity providers send.
    static func boolean(_ value: JSONValue, field: String) throws(SCIMError) -> Bool {
        if let flag = value.boolValue { return flag }
        switch value.stringValue?.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .invalidValue("\(field) must be a boolean")
        }
    }

    static func optionalText(_ value: JSONValue, field: String, maximum: Int) throws(SCIMError) -> String? {
        if value == .null { return nil }
        guard let text = value.stringValue else { throw .invalidValue("\(field) must be a string") }
        let cleaned = try cleanText(text, field: field, maximum: maximum, allowEmpty: true)
        return cleaned.isEmpty ? nil : cleaned
    }

    static func cleanText(_ text: String, field: String, maximum: Int, allowEmpty: Bool = false) throws(SCIMError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard allowEmpty || !trimmed.isEmpty else { throw .invalidValue("\(field) must not be empty") }
        guard trimmed.utf8.count <= maximum else { throw .invalidValue("\(field) is longer than \(maximum) bytes") }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidValue("\(field) contains control characters")
        }
        return trimmed
    }

    /// SCIM attribute names are case-insensitive (RFC 7643 §2.1).
    static func caseInsensitive(_ object: [String: JSONValue]) -> [String: JSONValue] {
        Dictionary(object.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// Member ids from `[{"value": id}, …]`.
    static func memberIDs(_ value: JSONValue?) throws(SCIMError) -> [String] {
        guard let value else { return [] }
        if value == .null { return [] }
        guard let items = value.arrayValue else { throw .invalidValue("members must be an array") }
        guard items.count <= 10_000 else { throw .invalidValue("at most 10000 members per request") }
        var ids: [String] = []
        for item in items {
            guard let id = item.objectValue.map(caseInsensitive)?["value"]?.stringValue, id.utf8.count <= 255 else {
                throw .invalidValue("each member needs a string value (the user's id)")
            }
            ids.append(id)
        }
        return ids
    }

    static func groupName(_ value: JSONValue?) throws(SCIMError) -> String {
        guard let text = value?.stringValue else { throw .invalidValue("displayName is required and must be a string") }
        return try cleanText(text, field: "displayName", maximum: 255)
    }
}
