import Foundation
import PortcullisCore
import PortcullisDataPath

/// SCIM PATCH (RFC 7644 §3.5.2) for the attributes Portcullis keeps. Attributes it does not keep
/// (phone numbers, titles, …) are accepted and not stored; malformed operations, unknown `op`s
/// and removing required attributes are refused.
enum SCIMPatch {
    enum Op: String {
        case add, replace, remove
    }

    struct Operation {
        let op: Op
        /// Lower-cased.
        let path: String?
        /// As sent (member ids in filters keep their case).
        let rawPath: String?
        let value: JSONValue?
    }

    static let maximumOperations = 1_000

    static func operations(_ body: JSONValue) throws(SCIMError) -> [Operation] {
        guard let object = body.objectValue.map(SCIMResources.caseInsensitive) else { throw .invalidSyntax("the body must be a JSON object") }
        guard let schemas = object["schemas"]?.stringList, schemas.contains(SCIMResources.patchSchema) else {
            throw .invalidSyntax("schemas must contain \(SCIMResources.patchSchema)")
        }
        guard let items = object["operations"]?.arrayValue, !items.isEmpty else { throw .invalidSyntax("Operations must be a non-empty array") }
        guard items.count <= maximumOperations else { throw .invalidSyntax("at most \(maximumOperations) operations per request") }
        var result: [Operation] = []
        for item in items {
            guard let fields = item.objectValue.map(SCIMResources.caseInsensitive),
                  let name = fields["op"]?.stringValue, let op = Op(rawValue: name.lowercased()) else {
                throw .invalidSyntax("each operation needs op: add, replace or remove")
            }
            var rawPath: String?
            if let value = fields["path"] {
                guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 512 else { throw .invalidPath("path must be a non-empty string") }
                rawPath = text.trimmingCharacters(in: .whitespaces)
            }
            let path = rawPath?.lowercased()
            if op != .remove, fields["value"] == nil { throw .invalidSyntax("\(op.rawValue) needs a value") }
            if op == .remove, path == nil { throw .noTarget("remove needs a path") }
            result.append(Operation(op: op, path: path, rawPath: rawPath, value: fields["value"]))
        }
        return result
    }

    static let enterpriseDepartment = SCIMResources.enterpriseSchema.lowercased() + ":department"

    /// The user after the operations.
    static func apply(_ operations: [Operation], to user: ProvisionedUser) throws(SCIMError) -> ProvisionedUser {
        var user = user
        for operation in operations {
            switch (operation.op, operation.path) {
            case (.add, nil), (.replace, nil):
                guard let fields = operation.value?.objectValue.map(SCIMResources.caseInsensitive) else {
                    throw .invalidValue("without a path, the value must be an object of attributes")
                }
                var expanded = fields
                // Some providers send extension attributes flattened: "urn:…:User:department".
                if let department = fields[enterpriseDepartment] {
                    expanded[SCIMResources.enterpriseSchema.lowercased()] = .object(["department": department])
                }
                try SCIMResources.apply(expanded, to: &user)
            case (.remove, let path?):
                switch path {
                case "displayname", "name", "name.formatted": user.name = nil
                case "externalid": user.externalID = nil
                case enterpriseDepartment: user.department = nil
                case "active", "username": throw .mutability("\(path) cannot be removed")
                default: break
                }
            case (_, let path?):
                guard let value = operation.value else { throw .invalidSyntax("\(operation.op.rawValue) needs a value") }
                switch path {
                case "active": user.active = try SCIMResources.boolean(value, field: "active")
                case "username": try SCIMResources.apply(["username": value], to: &user)
                case "displayname", "name.formatted": user.name = try SCIMResources.optionalText(value, field: path, maximum: 255)
                case "name": try SCIMResources.apply(["name": value], to: &user)
                case "externalid": user.externalID = try SCIMResources.optionalText(value, field: "externalId", maximum: 255)
                case enterpriseDepartment: user.department = try SCIMResources.optionalText(value, field: "department", maximum: 255)
                default: break
                }
            case (.remove, nil):
                throw .noTarget("remove needs a path")
            }
        }
        return user
    }

    /// A group after the operations: its name, external id and member ids.
    struct GroupState {
        var name: String
        var externalID: String?
        var members: [String]
    }

    static func apply(_ operations: [Operation], to group: GroupState) throws(SCIMError) -> GroupState {
        var state = group
        var members = state.members
        for operation in operations {
            switch (operation.op, operation.path) {
            case (.add, nil), (.replace, nil):
                guard let fields = operation.value?.objectValue.map(SCIMResources.caseInsensitive) else {
                    throw .invalidValue("without a path, the value must be an object of attributes")
                }
                if let name = fields["displayname"] { state.name = try SCIMResources.groupName(name) }
                if let external = fields["externalid"] { state.externalID = try SCIMResources.optionalText(external, field: "externalId", maximum: 255) }
                if let list = fields["members"] {
                    let ids = try SCIMResources.memberIDs(list)
                    members = operation.op == .replace ? ids : members + ids.filter { !members.contains($0) }
                }
            case (.add, "members"):
                let ids = try SCIMResources.memberIDs(operation.value)
                members += ids.filter { !members.contains($0) }
            case (.replace, "members"):
                members = try SCIMResources.memberIDs(operation.value)
            case (.remove, "members"):
                if let value = operation.value {
                    let ids = Set(try SCIMResources.memberIDs(value))
                    members.removeAll { ids.contains($0) }
                } else {
                    members = []
                }
            case (.remove, let path?) where path.hasPrefix("members["):
                let id = try memberFilterValue(operation.rawPath ?? path)
                members.removeAll { $0 == id }
            case (.replace, "displayname"), (.add, "displayname"):
                state.name = try SCIMResources.groupName(operation.value)
            case (.replace, "externalid"), (.add, "externalid"):
                state.externalID = try operation.value.flatMap { value throws(SCIMError) in try SCIMResources.optionalText(value, field: "externalId", maximum: 255) }
            case (.remove, "externalid"):
                state.externalID = nil
            case (.remove, "displayname"):
                throw .mutability("displayName cannot be removed")
            case (_, let path?):
                throw .invalidPath("\(path.prefix(64)) is not a Group attribute Portcullis can change")
            case (.remove, nil):
                throw .noTarget("remove needs a path")
            }
        }
        state.members = members
        return state
    }

    /// `members[value eq "ID"]` → `ID`.
    static func memberFilterValue(_ path: String) throws(SCIMError) -> String {
        guard path.lowercased().hasPrefix("members["), path.hasSuffix("]") else { throw .invalidPath("unsupported member path") }
        let inner = String(path.dropFirst("members[".count).dropLast()).trimmingCharacters(in: .whitespaces)
        guard inner.lowercased().hasPrefix("value ") else { throw .invalidPath("only members[value eq \"id\"] is supported") }
        return try SCIMFilter(parsing: "id" + inner.dropFirst("value".count)).value
    }
}
