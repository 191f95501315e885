import Foundation
import PortcullisCore

/// Resources as SCIM serves them (RFC 7643): the stored document with `schemas`, `id`, `meta`
/// and the read-only attributes added, and the columns the gateway uses read from a document.
enum SCIMRepresentation {
    static let enterprise = SCIMSchemaCatalog.enterpriseUserSchemaID

    static func user(_ user: UserRecord, groups: [GroupRecord], base: String) -> [String: JSONValue] {
        var resource = user.scimDocument ?? synthesized(user)
        var schemas: [JSONValue] = [.string(SCIMSchemaCatalog.userSchemaID)]
        if resource[enterprise] != nil { schemas.append(.string(enterprise)) }
        resource["schemas"] = .array(schemas)
        resource["id"] = .string(user.id)
        // The columns are the truth for what the gateway enforces.
        resource["userName"] = .string(user.email)
        if resource["active"] != nil || !user.active { resource["active"] = .bool(user.active) }
        let provisioned = groups.filter(\.provisioned)
        if !provisioned.isEmpty {
            resource["groups"] = .array(provisioned.map {
                .object(["value": .string($0.id), "display": .string($0.name), "$ref": .string("\(base)/Groups/\($0.id)"), "type": .string("direct")])
            })
        }
        resource["meta"] = meta("User", created: user.createdAt, modified: user.updatedAt ?? user.createdAt, location: "\(base)/Users/\(user.id)",
                                version: user.version)
        return resource
    }

    /// The SCIM view of a user SCIM never wrote (a sign-in or the bootstrap made them).
    static func synthesized(_ user: UserRecord) -> [String: JSONValue] {
        var document: [String: JSONValue] = [
            "userName": .string(user.email), "active": .bool(user.active),
            "emails": .array([.object(["value": .string(user.email), "primary": .bool(true), "type": .string("work")])]),
        ]
        if let name = user.name {
            document["displayName"] = .string(name)
            document["name"] = .object(["formatted": .string(name)])
        }
        if let externalID = user.externalID { document["externalId"] = .string(externalID) }
        if let department = user.department { document[enterprise] = .object(["department": .string(department)]) }
        return document
    }

    static func group(_ group: ProvisionedGroup, base: String) -> [String: JSONValue] {
        var resource: [String: JSONValue] = [
            "schemas": .array([.string(SCIMSchemaCatalog.groupSchemaID)]),
            "id": .string(group.group.id),
            "displayName": .string(group.group.name),
        ]
        if let externalID = group.group.externalID { resource["externalId"] = .string(externalID) }
        if let description = group.group.description { resource["description"] = .string(description) }
        if !group.members.isEmpty {
            resource["members"] = .array(group.members.map {
                .object(["value": .string($0.id), "$ref": .string("\(base)/Users/\($0.id)"), "type": .string("User")])
            })
        }
        let created = group.group.createdAt ?? Date(timeIntervalSince1970: 0)
        resource["meta"] = meta("Group", created: created, modified: group.group.updatedAt ?? created,
                                location: "\(base)/Groups/\(group.group.id)", version: group.group.version)
        return resource
    }

    /// The writable part of a group, as PATCH works on it.
    static func groupDocument(_ group: ProvisionedGroup) -> [String: JSONValue] {
        var document: [String: JSONValue] = ["displayName": .string(group.group.name)]
        if let externalID = group.group.externalID { document["externalId"] = .string(externalID) }
        if let description = group.group.description { document["description"] = .string(description) }
        if !group.members.isEmpty {
            document["members"] = .array(group.members.map { .object(["value": .string($0.id), "type": .string("User")]) })
        }
        return document
    }

    static func meta(_ type: String, created: Date, modified: Date, location: String, version: Int) -> JSONValue {
        .object([
            "resourceType": .string(type), "created": .string(SCIMDateTime.format(created)),
            "lastModified": .string(SCIMDateTime.format(modified)), "location": .string(location),
            "version": .string(SCIMETag.tag(version)),
        ])
    }

    static func list(_ resources: [[String: JSONValue]], total: Int, startIndex: Int) -> JSONValue {
        .object([
            "schemas": .array([.string(SCIMSchemaCatalog.listResponseSchema)]),
            "totalResults": .number(Double(total)),
            "startIndex": .number(Double(startIndex)),
            "itemsPerPage": .number(Double(resources.count)),
            "Resources": .array(resources.map(JSONValue.object)),
        ])
    }

    // MARK: documents to columns

    /// What the gateway keeps of a user document: userName is the email users sign in with;
    /// the name shown is displayName, else name.formatted, else given and family names; the
    /// department is the enterprise extension's; a user without `active` is active.
    static func provisionedUser(_ document: [String: JSONValue]) throws(SCIMFailure) -> ProvisionedUser {
        guard let email = document["userName"]?.stringValue else { throw .invalidValue("userName is required") }
        let name = document["name"]?.objectValue
        var shown = document["displayName"]?.stringValue ?? name?["formatted"]?.stringValue
        if shown == nil, let name {
            let joined = [name["givenName"]?.stringValue, name["familyName"]?.stringValue].compactMap { $0 }.joined(separator: " ")
            if !joined.isEmpty { shown = joined }
        }
        return ProvisionedUser(
            email: email, name: shown.map { String($0.prefix(255)) },
            department: document[enterprise]?.objectValue?["department"]?.stringValue.map { String($0.prefix(255)) },
            active: document["active"]?.boolValue ?? true, externalID: document["externalId"]?.stringValue, document: document
        )
    }

    /// What the gateway keeps of a group document: its name, external id, description and the
    /// ids of its members (users only).
    static func groupDraft(_ document: [String: JSONValue]) throws(SCIMFailure) -> GroupDraft {
        guard let name = document["displayName"]?.stringValue else { throw .invalidValue("displayName is required") }
        guard name.utf8.count <= 255 else { throw .invalidValue("displayName is longer than 255 bytes") }
        var members: [String] = []
        for item in document["members"]?.arrayValue ?? [] {
            guard let member = item.objectValue else { continue }
            if let type = member["type"]?.stringValue, type.lowercased() != "user" {
                throw .invalidValue("members of type \(SCIMFailure.quoted(type)) are not supported: nested groups are not")
            }
            var id = member["value"]?.stringValue
            if id == nil, let reference = member["$ref"]?.stringValue, let last = reference.split(separator: "/").last {
                id = String(last)
            }
            guard let id else { throw .invalidValue("each member needs a value: the user's id") }
            members.append(id)
        }
        guard members.count <= 10_000 else { throw .tooMany("at most 10000 members per request") }
        return GroupDraft(
            name: name, externalID: document["externalId"]?.stringValue, description: document["description"]?.stringValue, members: members
        )
    }
}
