import PortcullisCore
import PortcullisDataPath

/// The discovery documents of RFC 7644 §4: what this service provider supports.
enum SCIMDiscovery {
    static func serviceProviderConfig(base: String) -> JSONValue {
        .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")]),
            "documentationUri": .string("https://github.com/portcullis/portcullis#scim"),
            "patch": .object(["supported": .bool(true)]),
            "bulk": .object(["supported": .bool(false), "maxOperations": .number(0), "maxPayloadSize": .number(0)]),
            "filter": .object(["supported": .bool(true), "maxResults": .number(Double(SCIMEndpoints.maximumCount))]),
            "changePassword": .object(["supported": .bool(false)]),
            "sort": .object(["supported": .bool(false)]),
            "etag": .object(["supported": .bool(false)]),
            "authenticationSchemes": .array([.object([
                "type": .string("oauthbearertoken"), "name": .string("Bearer token"),
                "description": .string("The SCIM token from identity.scim.token_file or token_env"), "primary": .bool(true),
            ])]),
            "meta": .object(["resourceType": .string("ServiceProviderConfig"), "location": .string("\(base)/ServiceProviderConfig")]),
        ])
    }

    static func resourceType(_ id: String, base: String) -> JSONValue? {
        switch id {
        case "User":
            .object([
                "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ResourceType")]),
                "id": .string("User"), "name": .string("User"), "endpoint": .string("/Users"),
                "schema": .string(SCIMResources.userSchema),
                "schemaExtensions": .array([.object(["schema": .string(SCIMResources.enterpriseSchema), "required": .bool(false)])]),
                "meta": .object(["resourceType": .string("ResourceType"), "location": .string("\(base)/ResourceTypes/User")]),
            ])
        case "Group":
            .object([
                "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ResourceType")]),
                "id": .string("Group"), "name": .string("Group"), "endpoint": .string("/Groups"),
                "schema": .string(SCIMResources.groupSchema),
                "meta": .object(["resourceType": .string("ResourceType"), "location": .string("\(base)/ResourceTypes/Group")]),
            ])
        default: nil
        }
    }

    static func resourceTypes(base: String) -> JSONValue {
        let types = ["User", "Group"].compactMap { resourceType($0, base: base) }
        return SCIMResources.list(types, total: types.count, startIndex: 1)
    }

    static func attribute(_ name: String, type: String = "string", multiValued: Bool = false, required: Bool = false,
                          mutability: String = "readWrite", uniqueness: String = "none", subAttributes: [JSONValue]? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "type": .string(type), "multiValued": .bool(multiValued), "required": .bool(required),
            "caseExact": .bool(false), "mutability": .string(mutability), "returned": .string("default"), "uniqueness": .string(uniqueness),
        ]
        if let subAttributes { object["subAttributes"] = .array(subAttributes) }
        return .object(object)
    }

    static func schema(_ id: String) -> JSONValue? {
        let attributes: [JSONValue]
        let name: String
        switch id {
        case SCIMResources.userSchema:
            name = "User"
            attributes = [
                attribute("userName", required: true, uniqueness: "server"),
                attribute("name", type: "complex", subAttributes: [attribute("formatted"), attribute("givenName"), attribute("familyName")]),
                attribute("displayName"),
                attribute("active", type: "boolean"),
                attribute("emails", type: "complex", multiValued: true, mutability: "readOnly",
                          subAttributes: [attribute("value"), attribute("type"), attribute("primary", type: "boolean")]),
                attribute("groups", type: "complex", multiValued: true, mutability: "readOnly",
                          subAttributes: [attribute("value", mutability: "readOnly"), attribute("$ref", type: "reference", mutability: "readOnly"),
                                          attribute("display", mutability: "readOnly")]),
            ]
        case SCIMResources.groupSchema:
            name = "Group"
            attributes = [
                attribute("displayName", required: true, uniqueness: "server"),
                attribute("members", type: "complex", multiValued: true,
                          subAttributes: [attribute("value", mutability: "immutable"), attribute("$ref", type: "reference", mutability: "immutable"),
                                          attribute("type", mutability: "immutable"), attribute("display", mutability: "readOnly")]),
            ]
        case SCIMResources.enterpriseSchema:
            name = "EnterpriseUser"
            attributes = [attribute("department")]
        default:
            return nil
        }
        return .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:Schema")]),
            "id": .string(id), "name": .string(name), "attributes": .array(attributes),
            "meta": .object(["resourceType": .string("Schema")]),
        ])
    }

    static func schemas() -> JSONValue {
        let all = [SCIMResources.userSchema, SCIMResources.groupSchema, SCIMResources.enterpriseSchema].compactMap(schema)
        return SCIMResources.list(all, total: all.count, startIndex: 1)
    }
}
