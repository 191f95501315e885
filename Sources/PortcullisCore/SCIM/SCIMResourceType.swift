/// A kind of SCIM resource (RFC 7643 §6): its endpoint, its core schema and the extensions it
/// may carry, and path resolution against them.
public struct SCIMResourceType: Hashable, Sendable {
    public let name: String
    public let endpoint: String
    public let description: String
    public let schema: SCIMSchema
    public let extensions: [SCIMSchema]

    public init(name: String, endpoint: String, description: String, schema: SCIMSchema, extensions: [SCIMSchema]) {
        self.name = name
        self.endpoint = endpoint
        self.description = description
        self.schema = schema
        self.extensions = extensions
    }

    /// The core schema then the extensions.
    public var schemas: [SCIMSchema] { [schema] + extensions }

    public func `extension`(_ urn: some StringProtocol) -> SCIMSchema? {
        extensions.first { SCIMName.equal($0.id, urn) }
    }

    /// A top-level attribute: common (`id`, `externalId`, `meta`) or of the core schema.
    public func topLevelAttribute(named name: some StringProtocol) -> SCIMAttribute? {
        SCIMSchemaCatalog.commonAttributes.first { SCIMName.equal($0.name, name) } ?? schema.attribute(named: name)
    }

    /// Resolves a path against this type's schemas. Names match without regard to case; the
    /// answer carries the canonical definitions.
    public func resolve(_ path: SCIMAttributePath) throws(SCIMFailure) -> SCIMTarget {
        var container: String?
        var attribute: SCIMAttribute?
        if let urn = path.urn {
            if let whole = `extension`(path.text), path.subAttribute == nil {
                return SCIMTarget(container: whole.id, attribute: nil)
            }
            if SCIMName.equal(urn, schema.id) {
                attribute = schema.attribute(named: path.attribute)
            } else if let schemaExtension = `extension`(urn) {
                container = schemaExtension.id
                attribute = schemaExtension.attribute(named: path.attribute)
            } else {
                throw .invalidPath("\(SCIMFailure.quoted(path.text)) names a schema that \(name) resources do not have")
            }
        } else {
            attribute = topLevelAttribute(named: path.attribute)
        }
        guard let attribute else {
            throw .invalidPath("\(SCIMFailure.quoted(path.text)) is not an attribute of \(name) resources")
        }
        var sub: SCIMAttribute?
        if let subName = path.subAttribute {
            guard let found = attribute.subAttribute(named: subName) else {
                throw .invalidPath("\(SCIMFailure.quoted(path.text)) is not an attribute of \(name) resources")
            }
            sub = found
        }
        return SCIMTarget(container: container, attribute: attribute, subAttribute: sub)
    }

    /// The type as `/ResourceTypes` shows it.
    public func json(base: String) -> JSONValue {
        .object([
            "schemas": .array([.string(SCIMSchemaCatalog.resourceTypeSchema)]),
            "id": .string(name),
            "name": .string(name),
            "endpoint": .string(endpoint),
            "description": .string(description),
            "schema": .string(schema.id),
            "schemaExtensions": .array(extensions.map { .object(["schema": .string($0.id), "required": .bool(false)]) }),
            "meta": .object(["resourceType": .string("ResourceType"), "location": .string("\(base)/ResourceTypes/\(name)")]),
        ])
    }
}
