/// A SCIM schema (RFC 7643 §7): an id (URN), a name and its attributes.
public struct SCIMSchema: Hashable, Sendable {
    public let id: String
    public let name: String
    public let description: String
    public let attributes: [SCIMAttribute]

    public init(id: String, name: String, description: String, attributes: [SCIMAttribute]) {
        self.id = id
        self.name = name
        self.description = description
        self.attributes = attributes
    }

    public func attribute(named name: some StringProtocol) -> SCIMAttribute? {
        attributes.first { SCIMName.equal($0.name, name) }
    }

    /// The schema as `/Schemas` shows it.
    public func json(base: String) -> JSONValue {
        .object([
            "schemas": .array([.string(SCIMSchemaCatalog.schemaSchema)]),
            "id": .string(id),
            "name": .string(name),
            "description": .string(description),
            "attributes": .array(attributes.map(\.json)),
            "meta": .object(["resourceType": .string("Schema"), "location": .string("\(base)/Schemas/\(id)")]),
        ])
    }
}

/// Where a path points inside a resource: the container (the top level, or an extension's
/// object keyed by its URN), the attribute and optionally one of its sub-attributes. A path
/// naming a bare extension URN points at the whole extension object (`attribute == nil`).
public struct SCIMTarget: Hashable, Sendable {
    /// The extension URN holding the attribute; `nil` for core and common attributes.
    public var container: String?
    public var attribute: SCIMAttribute?
    public var subAttribute: SCIMAttribute?

    public init(container: String?, attribute: SCIMAttribute?, subAttribute: SCIMAttribute? = nil) {
        self.container = container
        self.attribute = attribute
        self.subAttribute = subAttribute
    }

    /// The definition of the value the path names (the sub-attribute when there is one).
    public var leaf: SCIMAttribute? { subAttribute ?? attribute }

    /// How the path reads in messages and in selections: `name.givenName`,
    /// `urn:…:User:department`.
    public var canonicalText: String {
        var text = container.map { $0 + ":" } ?? ""
        if let attribute { text += attribute.name } else if let container { text = container }
        if let subAttribute { text += "." + subAttribute.name }
        return text
    }
}
