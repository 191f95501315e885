/// Applies PATCH operations (RFC 7644 §3.5.2) to a resource's document, then reads the result
/// back through ``SCIMDocument/read(_:type:)`` so that it obeys the same rules as a PUT.
///
/// - `add`: to a multi-valued attribute adds values (a value already there is updated, not
///   repeated); to a complex one merges sub-attributes; otherwise sets.
/// - `replace`: replaces a multi-valued attribute's values; merges a complex attribute's
///   sub-attributes (those not named stay); with a filter replaces the matching values.
/// - `remove`: removes the attribute, the sub-attribute or the filter's matches; with a `value`
///   list on a multi-valued attribute (as Entra ID sends for `members`), those values.
///
/// A filter that matches nothing is `noTarget` for `replace`, unless it is a conjunction of
/// `eq` comparisons and names a sub-attribute (`emails[type eq "work"].value`): then, as
/// identity providers expect, the value is created with those attributes (also for `add`).
public enum SCIMPatch {
    public static func apply(
        _ operations: [SCIMPatchOperation], to document: [String: JSONValue], type: SCIMResourceType
    ) throws(SCIMFailure) -> [String: JSONValue] {
        var document = document
        for operation in operations {
            if let path = operation.path {
                try apply(operation.op, path: path, value: operation.value, to: &document, type: type)
                continue
            }
            guard let fields = operation.value?.objectValue else {
                throw .invalidValue("without a path, \(operation.op.rawValue) needs an object of attributes")
            }
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                if SCIMName.equal(key, "schemas") { continue }
                if let schemaExtension = type.extension(key) {
                    guard let inner = value.objectValue else { throw .invalidValue("\(schemaExtension.id) must be an object") }
                    for (name, innerValue) in inner.sorted(by: { $0.key < $1.key }) {
                        guard schemaExtension.attribute(named: name) != nil else { continue }
                        let path = SCIMAttributePath(urn: schemaExtension.id, attribute: name)
                        try apply(operation.op, target: try resolve(path, type: type), filter: nil, filterSub: nil, value: innerValue, to: &document, type: type, lenientReadOnly: true)
                    }
                    continue
                }
                // Keys may be paths themselves: "name.givenName", "urn:…:User:department".
                guard let path = try? SCIMAttributePath(parsing: key), let target = try? type.resolve(path) else { continue }
                try apply(operation.op, target: target, filter: nil, filterSub: nil, value: value, to: &document, type: type, lenientReadOnly: true)
            }
        }
        return try SCIMDocument.read(document, type: type)
    }

    static func resolve(_ path: SCIMAttributePath, type: SCIMResourceType) throws(SCIMFailure) -> SCIMTarget {
        do {
            return try type.resolve(path)
        } catch {
            throw .invalidPath(error.detail)
        }
    }

    static func apply(
        _ op: SCIMPatchOperation.Op, path: SCIMPatchPath, value: JSONValue?, to document: inout [String: JSONValue], type: SCIMResourceType
    ) throws(SCIMFailure) {
        let target = try resolve(path.attribute, type: type)
        var filterSub: SCIMAttribute?
        if let filter = path.filter {
            guard let attribute = target.attribute, attribute.isComplex else {
                throw .invalidPath("\(SCIMFailure.quoted(path.text)): a filter needs a complex attribute")
            }
            do {
                try filter.validate(for: type, parent: target)
            } catch {
                throw .invalidPath("\(SCIMFailure.quoted(path.text)): \(error.detail)")
            }
            if let name = path.subAttribute {
                guard let sub = attribute.subAttribute(named: name) else {
                    throw .invalidPath("\(SCIMFailure.quoted(path.text)): \(attribute.name) has no sub-attribute \(SCIMFailure.quoted(name))")
                }
                filterSub = sub
            }
        }
        try apply(op, target: target, filter: path.filter, filterSub: filterSub, value: value, to: &document, type: type, lenientReadOnly: false)
    }

    static func apply(
        _ op: SCIMPatchOperation.Op, target: SCIMTarget, filter: SCIMFilter?, filterSub: SCIMAttribute?, value: JSONValue?,
        to document: inout [String: JSONValue], type: SCIMResourceType, lenientReadOnly: Bool
    ) throws(SCIMFailure) {
        guard let attribute = target.attribute else {
            // A whole extension: its attributes one by one.
            guard let urn = target.container, let schemaExtension = type.extension(urn) else { return }
            switch op {
            case .remove:
                document[urn] = nil
            case .add, .replace:
                guard let inner = value?.objectValue else { throw .invalidValue("\(urn) must be an object") }
                for (name, innerValue) in inner.sorted(by: { $0.key < $1.key }) {
                    guard let definition = schemaExtension.attribute(named: name) else { continue }
                    try apply(op, target: SCIMTarget(container: urn, attribute: definition), filter: nil, filterSub: nil,
                              value: innerValue, to: &document, type: type, lenientReadOnly: lenientReadOnly)
                }
            }
            return
        }
        let leaf = filterSub ?? target.subAttribute
        for definition in [attribute, leaf].compactMap({ $0 }) where definition.mutability == .readOnly {
            if lenientReadOnly { return }
            throw .mutability("\(target.canonicalText) is read-only")
        }
        if op == .remove, attribute.required, target.subAttribute == nil, filter == nil {
            throw .mutability("\(attribute.name) is required and cannot be removed")
        }
        var container = target.container.map { document[$0]?.objectValue ?? [:] } ?? document
        let current = container[attribute.name]
        let updated: JSONValue?
        if let filter {
            updated = try applyFiltered(op, attribute: attribute, target: target, filter: filter, filterSub: filterSub,
                                        value: value, current: current, type: type)
        } else if let sub = target.subAttribute {
            updated = try applySub(op, attribute: attribute, sub: sub, value: value, current: current)
        } else {
            updated = try applyWhole(op, attribute: attribute, value: value, current: current)
        }
        container[attribute.name] = updated
        if let urn = target.container {
            document[urn] = container.isEmpty ? nil : .object(container)
        } else {
            document = container
        }
    }

    // MARK: whole attributes

    static func applyWhole(_ op: SCIMPatchOperation.Op, attribute: SCIMAttribute, value: JSONValue?, current: JSONValue?) throws(SCIMFailure) -> JSONValue? {
        switch op {
        case .remove:
            guard attribute.multiValued, let value, value != .null else { return nil }
            // Remove these values only.
            let unwanted = list(value).map { complexValue($0, attribute) }
            let kept = list(current).filter { item in !unwanted.contains { sameValue($0, item, attribute) } }
            return kept.isEmpty ? nil : .array(kept)
        case .add:
            guard let value else { return current }
            if attribute.multiValued {
                var items = list(current)
                // Values by their `value`, so that adding to a large group stays linear.
                var positions: [String: [Int]] = [:]
                for (position, item) in items.enumerated() {
                    if let key = valueKey(item, attribute) { positions[key, default: []].append(position) }
                }
                for item in list(value).map({ complexValue($0, attribute) }) {
                    let candidates = valueKey(item, attribute).map { positions[$0] ?? [] } ?? Array(items.indices)
                    if let position = candidates.first(where: { sameValue(items[$0], item, attribute) }) {
                        items[position] = merge(items[position], item)
                    } else {
                        if let key = valueKey(item, attribute) { positions[key, default: []].append(items.count) }
                        items.append(item)
                    }
                }
                return .array(items)
            }
            if attribute.isComplex { return merge(current, complexValue(value, attribute)) }
            return value
        case .replace:
            guard let value else { return current }
            if attribute.multiValued { return .array(list(value).map { complexValue($0, attribute) }) }
            if attribute.isComplex { return merge(current, complexValue(value, attribute)) }
            return value
        }
    }

    static func applySub(
        _ op: SCIMPatchOperation.Op, attribute: SCIMAttribute, sub: SCIMAttribute, value: JSONValue?, current: JSONValue?
    ) throws(SCIMFailure) -> JSONValue? {
        if attribute.multiValued {
            guard op == .remove else {
                throw .invalidPath("\(attribute.name).\(sub.name): name which values with a filter, such as \(attribute.name)[type eq \"work\"].\(sub.name)")
            }
            let items = list(current).compactMap { item -> JSONValue? in
                guard var object = item.objectValue else { return item }
                object[sub.name] = nil
                return object.isEmpty ? nil : .object(object)
            }
            return items.isEmpty ? nil : .array(items)
        }
        var object = current?.objectValue ?? [:]
        switch op {
        case .remove: object[sub.name] = nil
        case .add, .replace: object[sub.name] = value
        }
        return object.isEmpty ? nil : .object(object)
    }

    // MARK: filtered values

    static func applyFiltered(
        _ op: SCIMPatchOperation.Op, attribute: SCIMAttribute, target: SCIMTarget, filter: SCIMFilter, filterSub: SCIMAttribute?,
        value: JSONValue?, current: JSONValue?, type: SCIMResourceType
    ) throws(SCIMFailure) -> JSONValue? {
        var items = list(current)
        let parent = SCIMTarget(container: target.container, attribute: attribute)
        let matching = items.indices.filter { index in
            guard let object = items[index].objectValue else { return false }
            return filter.evaluate(type: type, resource: [:], element: (parent, object))
        }
        switch op {
        case .remove:
            if let sub = filterSub {
                for index in matching {
                    guard var object = items[index].objectValue else { continue }
                    object[sub.name] = nil
                    items[index] = .object(object)
                }
                items.removeAll { $0.objectValue?.isEmpty == true }
            } else {
                let removed = Set(matching)
                items = items.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
            }
        case .add, .replace:
            guard let value else { return current }
            if matching.isEmpty {
                guard let seed = equalities(filter), filterSub != nil || op == .add else {
                    throw .noTarget("no value of \(attribute.name) matches the filter")
                }
                var created = seed
                if let sub = filterSub {
                    created[sub.name] = value
                } else if let fields = complexValue(value, attribute).objectValue {
                    created.merge(fields) { _, new in new }
                }
                items.append(.object(created))
            } else {
                for index in matching {
                    var object = items[index].objectValue ?? [:]
                    if let sub = filterSub {
                        object[sub.name] = value
                    } else if op == .replace {
                        object = complexValue(value, attribute).objectValue ?? [:]
                    } else if let fields = complexValue(value, attribute).objectValue {
                        object.merge(fields) { _, new in new }
                    }
                    items[index] = .object(object)
                }
            }
        }
        return items.isEmpty ? nil : .array(items)
    }

    /// `type eq "work" and primary eq true` → `{"type": "work", "primary": true}`; `nil` for
    /// anything else.
    static func equalities(_ filter: SCIMFilter) -> [String: JSONValue]? {
        switch filter {
        case .compare(let path, .eq, let value):
            let json: JSONValue
            switch value {
            case .string(let text): json = .string(text)
            case .number(let number): json = .number(number)
            case .bool(let flag): json = .bool(flag)
            case .null: return nil
            }
            return [path.attribute: json]
        case .and(let left, let right):
            guard let a = equalities(left), let b = equalities(right) else { return nil }
            return a.merging(b) { first, _ in first }
        default:
            return nil
        }
    }

    // MARK: values

    static func list(_ value: JSONValue?) -> [JSONValue] {
        switch value {
        case nil, .null?: []
        case .array(let items)?: items
        case let single?: [single]
        }
    }

    /// A string for a complex attribute with a `value` becomes `{"value": …}`.
    static func complexValue(_ value: JSONValue, _ attribute: SCIMAttribute) -> JSONValue {
        guard attribute.isComplex else { return value }
        switch value {
        case .string, .number, .bool:
            return attribute.subAttribute(named: "value") != nil ? .object(["value": value]) : value
        case .object(let object): return .object(Dictionary(object.map { key, inner in
            (attribute.subAttribute(named: key)?.name ?? key, inner)
        }, uniquingKeysWith: { first, _ in first }))
        default: return value
        }
    }

    /// A value's `value`, as it compares (without case unless `caseExact`).
    static func valueKey(_ item: JSONValue, _ attribute: SCIMAttribute) -> String? {
        guard let value = item.objectValue?["value"] else { return nil }
        guard case .string(let text) = value else { return "\(value)" }
        return attribute.subAttribute(named: "value")?.caseExact == true ? text : SCIMName.key(text)
    }

    /// Two values of a multi-valued attribute are the same when their `value` agrees and so
    /// does their `type` where both have one; values without a `value` when they are equal.
    static func sameValue(_ a: JSONValue, _ b: JSONValue, _ attribute: SCIMAttribute) -> Bool {
        guard let x = valueKey(a, attribute), let y = valueKey(b, attribute) else { return a == b }
        guard x == y else { return false }
        if let kind = a.objectValue?["type"]?.stringValue, let other = b.objectValue?["type"]?.stringValue {
            return SCIMName.key(kind) == SCIMName.key(other)
        }
        return true
    }

    static func merge(_ current: JSONValue?, _ addition: JSONValue) -> JSONValue {
        guard let base = current?.objectValue, let extra = addition.objectValue else { return addition }
        return .object(base.merging(extra) { _, new in new })
    }
}
