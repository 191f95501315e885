import PortcullisCore

/// The discovery documents of RFC 7644 §4, telling the truth about what is supported: PATCH,
/// filters (up to 200 results), sorting and ETags; no bulk, no password change.
enum SCIMDiscovery {
    static func serviceProviderConfig(base: String) -> JSONValue {
        .object([
            "schemas": .array([.string(SCIMSchemaCatalog.serviceProviderConfigSchema)]),
            "documentationUri": .string("https://github.com/portcullis/portcullis#scim-20"),
            "patch": .object(["supported": .bool(true)]),
            "bulk": .object(["supported": .bool(false), "maxOperations": .number(0), "maxPayloadSize": .number(0)]),
            "filter": .object(["supported": .bool(true), "maxResults": .number(Double(SCIMListQuery.maximumResults))]),
            "changePassword": .object(["supported": .bool(false)]),
            "sort": .object(["supported": .bool(true)]),
            "etag": .object(["supported": .bool(true)]),
            "authenticationSchemes": .array([.object([
                "type": .string("oauthbearertoken"), "name": .string("Bearer token"),
                "description": .string("The SCIM token from identity.scim.token_file or token_env"), "primary": .bool(true),
            ])]),
            "meta": .object(["resourceType": .string("ServiceProviderConfig"), "location": .string("\(base)/ServiceProviderConfig")]),
        ])
    }

    static func resourceTypes(base: String) -> JSONValue {
        let types = SCIMSchemaCatalog.resourceTypes.map { $0.json(base: base).objectValue ?? [:] }
        return SCIMRepresentation.list(types, total: types.count, startIndex: 1)
    }

    static func schemas(base: String) -> JSONValue {
        let schemas = SCIMSchemaCatalog.schemas.map { $0.json(base: base).objectValue ?? [:] }
        return SCIMRepresentation.list(schemas, total: schemas.count, startIndex: 1)
    }
}
