/// The schemas and resource types Portcullis serves (RFC 7643 §4, §8.7): the core User schema,
/// the Enterprise User extension and the Group schema (with a `description`, which groups keep
/// for the console). What is declared here is stored and returned exactly as sent, except
/// `password`, which is accepted and never kept.
public enum SCIMSchemaCatalog {
    public static let userSchemaID = "urn:ietf:params:scim:schemas:core:2.0:User"
    public static let groupSchemaID = "urn:ietf:params:scim:schemas:core:2.0:Group"
    public static let enterpriseUserSchemaID = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    public static let listResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    public static let patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    public static let searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
    public static let errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
    public static let serviceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    public static let resourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    public static let schemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema"

    /// `id`, `externalId` and `meta` (RFC 7643 §3.1): every resource has them; no schema
    /// lists them.
    public static let commonAttributes: [SCIMAttribute] = [
        SCIMAttribute("id", caseExact: true, mutability: .readOnly, returned: .always, uniqueness: .server,
                      description: "The identifier the service provider assigned."),
        SCIMAttribute("externalId", caseExact: true, description: "The identifier the provisioning client assigned."),
        SCIMAttribute("meta", .complex, mutability: .readOnly, subAttributes: [
            SCIMAttribute("resourceType", caseExact: true, mutability: .readOnly),
            SCIMAttribute("created", .dateTime, mutability: .readOnly),
            SCIMAttribute("lastModified", .dateTime, mutability: .readOnly),
            SCIMAttribute("location", .reference, caseExact: true, mutability: .readOnly, referenceTypes: ["uri"]),
            SCIMAttribute("version", caseExact: true, mutability: .readOnly),
        ], description: "Resource metadata."),
    ]

    static func multiValued(_ name: String, valueKind: SCIMAttribute.Kind = .string, referenceTypes: [String] = [],
                            types: [String], description: String) -> SCIMAttribute {
        SCIMAttribute(name, .complex, multiValued: true, subAttributes: [
            SCIMAttribute("value", valueKind, caseExact: valueKind == .reference || valueKind == .binary, referenceTypes: referenceTypes),
            SCIMAttribute("display"),
            SCIMAttribute("type", canonicalValues: types),
            SCIMAttribute("primary", .boolean),
        ], description: description)
    }

    public static let user = SCIMSchema(id: userSchemaID, name: "User", description: "User Account", attributes: [
        SCIMAttribute("userName", required: true, uniqueness: .server,
                      description: "The name the user signs in with: the email address Portcullis matches at sign-in."),
        SCIMAttribute("name", .complex, subAttributes: [
            SCIMAttribute("formatted"), SCIMAttribute("familyName"), SCIMAttribute("givenName"), SCIMAttribute("middleName"),
            SCIMAttribute("honorificPrefix"), SCIMAttribute("honorificSuffix"),
        ], description: "The components of the user's name."),
        SCIMAttribute("displayName", description: "The name shown on the teammates page."),
        SCIMAttribute("nickName"),
        SCIMAttribute("profileUrl", .reference, referenceTypes: ["external"]),
        SCIMAttribute("title"),
        SCIMAttribute("userType"),
        SCIMAttribute("preferredLanguage"),
        SCIMAttribute("locale"),
        SCIMAttribute("timezone"),
        SCIMAttribute("active", .boolean, description: "false ends every session and API token of the user at once."),
        SCIMAttribute("password", mutability: .writeOnly, returned: .never,
                      description: "Accepted and never stored: users sign in through the identity provider."),
        multiValued("emails", types: ["work", "home", "other"], description: "Email addresses."),
        multiValued("phoneNumbers", types: ["work", "home", "mobile", "fax", "pager", "other"], description: "Phone numbers."),
        multiValued("ims", types: ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"], description: "Instant messaging addresses."),
        multiValued("photos", valueKind: .reference, referenceTypes: ["external"], types: ["photo", "thumbnail"], description: "Photos."),
        SCIMAttribute("addresses", .complex, multiValued: true, subAttributes: [
            SCIMAttribute("formatted"), SCIMAttribute("streetAddress"), SCIMAttribute("locality"), SCIMAttribute("region"),
            SCIMAttribute("postalCode"), SCIMAttribute("country"), SCIMAttribute("type", canonicalValues: ["work", "home", "other"]),
            SCIMAttribute("primary", .boolean),
        ], description: "Physical mailing addresses."),
        SCIMAttribute("groups", .complex, multiValued: true, mutability: .readOnly, subAttributes: [
            SCIMAttribute("value", mutability: .readOnly),
            SCIMAttribute("$ref", .reference, caseExact: true, mutability: .readOnly, referenceTypes: ["Group"]),
            SCIMAttribute("display", mutability: .readOnly),
            SCIMAttribute("type", mutability: .readOnly, canonicalValues: ["direct", "indirect"]),
        ], description: "The groups the user belongs to; change them through Groups."),
        multiValued("entitlements", types: [], description: "Entitlements."),
        multiValued("roles", types: [], description: "Roles in the identity provider (Portcullis roles come from its own mappings)."),
        multiValued("x509Certificates", valueKind: .binary, types: [], description: "Certificates."),
    ])

    public static let enterpriseUser = SCIMSchema(
        id: enterpriseUserSchemaID, name: "EnterpriseUser", description: "Enterprise User",
        attributes: [
            SCIMAttribute("employeeNumber"),
            SCIMAttribute("costCenter"),
            SCIMAttribute("organization"),
            SCIMAttribute("division"),
            SCIMAttribute("department", description: "Shown and filtered on the teammates page."),
            SCIMAttribute("manager", .complex, subAttributes: [
                SCIMAttribute("value", caseExact: true),
                SCIMAttribute("$ref", .reference, caseExact: true, referenceTypes: ["User"]),
                SCIMAttribute("displayName", mutability: .readOnly),
            ]),
        ]
    )

    public static let group = SCIMSchema(id: groupSchemaID, name: "Group", description: "Group", attributes: [
        SCIMAttribute("displayName", required: true, uniqueness: .server,
                      description: "The group's name; role mappings name groups by it."),
        SCIMAttribute("members", .complex, multiValued: true, subAttributes: [
            SCIMAttribute("value", caseExact: true, mutability: .immutable),
            SCIMAttribute("$ref", .reference, caseExact: true, mutability: .immutable, referenceTypes: ["User"]),
            SCIMAttribute("type", caseExact: true, mutability: .immutable, canonicalValues: ["User"]),
        ], description: "The group's users (nested groups are not supported).", maximumValues: 10_000),
        SCIMAttribute("description", description: "Shown to admins with the group."),
    ])

    public static let userType = SCIMResourceType(
        name: "User", endpoint: "/Users", description: "People who sign in through the gateway",
        schema: user, extensions: [enterpriseUser]
    )

    public static let groupType = SCIMResourceType(
        name: "Group", endpoint: "/Groups", description: "Groups whose role mappings give roles to their members",
        schema: group, extensions: []
    )

    public static let resourceTypes = [userType, groupType]
    public static let schemas = [user, enterpriseUser, group]

    public static func schema(id: some StringProtocol) -> SCIMSchema? {
        schemas.first { SCIMName.equal($0.id, id) }
    }

    public static func resourceType(named name: some StringProtocol) -> SCIMResourceType? {
        resourceTypes.first { SCIMName.equal($0.name, name) }
    }
}
