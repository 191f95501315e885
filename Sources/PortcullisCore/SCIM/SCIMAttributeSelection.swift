/// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a
/// response carries. `id` and `schemas` are always returned, `returned: never` attributes never;
/// `returned: request` ones only when asked for. Names that no schema defines are ignored, as
/// they would be for a resource that lacks them.
public struct SCIMAttributeSelection: Hashable, Sendable {
    public let attributes: [SCIMAttributePath]
    public let excluded: [SCIMAttributePath]

    public static let all = SCIMAttributeSelection(attributes: [], excluded: [])
    public static let maximumPaths = 64

    public init(attributes: [SCIMAttributePath], excluded: [SCIMAttributePath]) {
        self.attributes = attributes
        self.excluded = excluded
    }

    /// From the comma-separated query parameters (or `.search` fields). Both at once are
    /// refused (`invalidSyntax`): RFC 7644 calls them mutually exclusive.
    public init(attributes: String?, excludedAttributes: String?) throws(SCIMFailure) {
        let included = try Self.paths(attributes)
        let excluded = try Self.paths(excludedAttributes)
        guard included.isEmpty || excluded.isEmpty else {
            throw .invalidSyntax("attributes and excludedAttributes cannot be used together")
        }
        self.init(attributes: included, excluded: excluded)
    }

    public init(attributes: [String], excludedAttributes: [String]) throws(SCIMFailure) {
        try self.init(
            attributes: attributes.isEmpty ? nil : attributes.joined(separator: ","),
            excludedAttributes: excludedAttributes.isEmpty ? nil : excludedAttributes.joined(separator: ",")
        )
    }

    static func paths(_ text: String?) throws(SCIMFailure) -> [SCIMAttributePath] {
        guard let text, !text.isEmpty else { return [] }
        let parts = text.split(separator: ",").map { $0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed() }
            .map { String($0) }.filter { !$0.isEmpty }
        guard parts.count <= maximumPaths else { throw .invalidValue("at most \(maximumPaths) attribute names") }
        var paths: [SCIMAttributePath] = []
        for part in parts {
            do {
                paths.append(try SCIMAttributePath(parsing: part))
            } catch {
                throw .invalidValue(error.detail)
            }
        }
        return paths
    }

    /// What to keep of one attribute: all of it, or some sub-attributes.
    enum Part: Hashable {
        case whole
        case subAttributes(Set<String>)
    }

    /// The resource as this selection shows it.
    public func apply(to resource: [String: JSONValue], type: SCIMResourceType) -> [String: JSONValue] {
        var result: [String: JSONValue]
        if attributes.isEmpty {
            result = Self.defaults(resource, type: type)
        } else {
            result = [:]
            var wanted: [String?: [String: Part]] = [:]
            var wholeExtensions: Set<String> = []
            for path in attributes {
                guard let target = try? type.resolve(path) else { continue }
                guard let attribute = target.attribute else {
                    if let urn = target.container { wholeExtensions.insert(urn) }
                    continue
                }
                if attribute.returned == .never { continue }
                var parts = wanted[target.container, default: [:]]
                switch (parts[attribute.name], target.subAttribute) {
                case (.whole?, _): break
                case (_, nil): parts[attribute.name] = .whole
                case (.subAttributes(var names)?, let sub?):
                    names.insert(sub.name)
                    parts[attribute.name] = .subAttributes(names)
                case (nil, let sub?): parts[attribute.name] = .subAttributes([sub.name])
                }
                wanted[target.container] = parts
            }
            for urn in wholeExtensions {
                if let value = resource[urn] { result[urn] = value }
                wanted[urn] = nil
            }
            for (container, parts) in wanted {
                var source = resource
                if let container { source = resource[container]?.objectValue ?? [:] }
                var kept: [String: JSONValue] = [:]
                for (name, part) in parts {
                    guard let value = source[name] else { continue }
                    switch part {
                    case .whole: kept[name] = value
                    case .subAttributes(let names): kept[name] = Self.keeping(names, of: value)
                    }
                }
                if let container {
                    if !kept.isEmpty { result[container] = .object(kept) }
                } else {
                    result.merge(kept) { _, new in new }
                }
            }
        }
        for path in excluded {
            guard let target = try? type.resolve(path) else { continue }
            Self.remove(target, from: &result)
        }
        for attribute in SCIMSchemaCatalog.commonAttributes + type.schema.attributes where attribute.returned == .always {
            if let value = resource[attribute.name] { result[attribute.name] = value }
        }
        if let schemas = resource["schemas"] { result["schemas"] = schemas }
        return result
    }

    /// Everything except `returned: request` and `never` attributes.
    static func defaults(_ resource: [String: JSONValue], type: SCIMResourceType) -> [String: JSONValue] {
        var result = resource
        for attribute in type.schema.attributes where attribute.returned == .request || attribute.returned == .never {
            result[attribute.name] = nil
        }
        for schemaExtension in type.extensions {
            guard var object = result[schemaExtension.id]?.objectValue else { continue }
            for attribute in schemaExtension.attributes where attribute.returned == .request || attribute.returned == .never {
                object[attribute.name] = nil
            }
            result[schemaExtension.id] = object.isEmpty ? nil : .object(object)
        }
        return result
    }

    static func keeping(_ names: Set<String>, of value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let object):
            let kept = object.filter { names.contains($0.key) }
            return kept.isEmpty ? nil : .object(kept)
        case .array(let items):
            let kept = items.compactMap { keeping(names, of: $0) }
            return kept.isEmpty ? nil : .array(kept)
        default:
            return nil
        }
    }

    static func remove(_ target: SCIMTarget, from resource: inout [String: JSONValue]) {
        guard let attribute = target.attribute else {
            if let urn = target.container { resource[urn] = nil }
            return
        }
        guard attribute.returned != .always else { return }
        func strip(_ object: inout [String: JSONValue]) {
            guard let sub = target.subAttribute else {
                object[attribute.name] = nil
                return
            }
            switch object[attribute.name] {
            case .object(var inner)?:
                inner[sub.name] = nil
                object[attribute.name] = inner.isEmpty ? nil : .object(inner)
            case .array(let items)?:
                let kept: [JSONValue] = items.compactMap { item in
                    guard var inner = item.objectValue else { return item }
                    inner[sub.name] = nil
                    return inner.isEmpty ? nil : .object(inner)
                }
                object[attribute.name] = kept.isEmpty ? nil : .array(kept)
            default:
                break
            }
        }
        if let container = target.container {
            guard var object = resource[container]?.objectValue else { return }
            strip(&object)
            resource[container] = object.isEmpty ? nil : .object(object)
        } else {
            strip(&resource)
        }
    }
}
