#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SCIMFilter {
    /// Checks that every path names an attribute of `type` and that each comparison suits the
    /// attribute's type: `invalidFilter` otherwise.
    public func validate(for type: SCIMResourceType) throws(SCIMFailure) {
        try validate(for: type, parent: nil)
    }

    func validate(for type: SCIMResourceType, parent: SCIMTarget?) throws(SCIMFailure) {
        switch self {
        case .present(let path):
            _ = try Self.target(path, type: type, parent: parent)
        case .compare(let path, let comparison, let value):
            let target = try Self.target(path, type: type, parent: parent)
            try Self.check(comparison, value, against: Self.comparedAttribute(target), path: path)
        case .valuePath(let path, let inner):
            let target = try Self.target(path, type: type, parent: parent)
            guard let attribute = target.attribute, attribute.isComplex, target.subAttribute == nil else {
                throw .invalidFilter("\(SCIMFailure.quoted(path.text))[…] needs a complex attribute")
            }
            try inner.validate(for: type, parent: target)
        case .not(let inner):
            try inner.validate(for: type, parent: parent)
        case .and(let left, let right), .or(let left, let right):
            try left.validate(for: type, parent: parent)
            try right.validate(for: type, parent: parent)
        }
    }

    static func target(_ path: SCIMAttributePath, type: SCIMResourceType, parent: SCIMTarget?) throws(SCIMFailure) -> SCIMTarget {
        if let parent, let attribute = parent.attribute {
            guard path.urn == nil, path.subAttribute == nil, let sub = attribute.subAttribute(named: path.attribute) else {
                throw .invalidFilter("\(SCIMFailure.quoted(path.text)) is not a sub-attribute of \(attribute.name)")
            }
            return SCIMTarget(container: parent.container, attribute: attribute, subAttribute: sub)
        }
        let target: SCIMTarget
        do {
            target = try type.resolve(path)
        } catch {
            throw .invalidFilter(error.detail)
        }
        guard target.attribute != nil else { throw .invalidFilter("a filter cannot compare a whole extension") }
        return target
    }

    /// What a comparison compares: the sub-attribute, or a multi-valued complex attribute's
    /// `value`.
    static func comparedAttribute(_ target: SCIMTarget) -> SCIMAttribute? {
        if let sub = target.subAttribute { return sub }
        guard let attribute = target.attribute else { return nil }
        if attribute.isComplex { return attribute.subAttribute(named: "value") }
        return attribute
    }

    static func check(_ comparison: SCIMComparison, _ value: SCIMFilterValue, against attribute: SCIMAttribute?, path: SCIMAttributePath) throws(SCIMFailure) {
        let shown = SCIMFailure.quoted(path.text)
        guard let attribute else { throw .invalidFilter("\(shown) is complex: compare one of its sub-attributes") }
        if value == .null {
            guard comparison == .eq || comparison == .ne else { throw .invalidFilter("null can only be compared with eq or ne") }
            return
        }
        switch attribute.kind {
        case .boolean:
            guard case .bool = value, comparison == .eq || comparison == .ne else {
                throw .invalidFilter("\(shown) is a boolean: compare it with eq or ne and true or false")
            }
        case .integer, .decimal:
            guard case .number = value, [.eq, .ne, .gt, .ge, .lt, .le].contains(comparison) else {
                throw .invalidFilter("\(shown) is a number: compare it with eq, ne, gt, ge, lt or le and a number")
            }
        case .dateTime:
            guard case .string(let text) = value else { throw .invalidFilter("\(shown) is a dateTime: compare it with a quoted date") }
            if !(comparison == .co || comparison == .sw || comparison == .ew), SCIMDateTime.parse(text) == nil {
                throw .invalidFilter("\(SCIMFailure.quoted(text)) is not a dateTime such as \"2024-05-01T12:00:00Z\"")
            }
        case .binary:
            guard case .string = value, comparison == .eq || comparison == .ne else {
                throw .invalidFilter("\(shown) is binary: compare it with eq or ne")
            }
        case .string, .reference:
            guard case .string = value else { throw .invalidFilter("\(shown) is a string: quote the value") }
        case .complex:
            throw .invalidFilter("\(shown) is complex: compare one of its sub-attributes")
        }
    }

    // MARK: evaluation

    /// Whether `resource` (a resource as served: canonical names, extensions under their URN)
    /// matches. Call ``validate(for:)`` first; a path that does not resolve matches nothing.
    public func matches(_ resource: [String: JSONValue], type: SCIMResourceType) -> Bool {
        evaluate(type: type, resource: resource, element: nil)
    }

    func evaluate(type: SCIMResourceType, resource: [String: JSONValue], element: (SCIMTarget, [String: JSONValue])?) -> Bool {
        switch self {
        case .present(let path):
            guard let (target, values) = Self.values(path, type: type, resource: resource, element: element) else { return false }
            _ = target
            return values.contains(where: Self.isPresent)
        case .compare(let path, let comparison, let value):
            guard let (target, values) = Self.values(path, type: type, resource: resource, element: element),
                  let attribute = Self.comparedAttribute(target) else { return false }
            return Self.compare(values, comparison, value, attribute: attribute)
        case .valuePath(let path, let inner):
            guard element == nil, let target = try? type.resolve(path), let attribute = target.attribute else { return false }
            let container = target.container.map { resource[$0]?.objectValue ?? [:] } ?? resource
            let items: [JSONValue]
            switch container[attribute.name] {
            case .array(let list)?: items = list
            case let single?: items = [single]
            case nil: items = []
            }
            return items.contains { item in
                guard let object = item.objectValue else { return false }
                return inner.evaluate(type: type, resource: resource, element: (target, object))
            }
        case .not(let inner):
            return !inner.evaluate(type: type, resource: resource, element: element)
        case .and(let left, let right):
            return left.evaluate(type: type, resource: resource, element: element)
                && right.evaluate(type: type, resource: resource, element: element)
        case .or(let left, let right):
            return left.evaluate(type: type, resource: resource, element: element)
                || right.evaluate(type: type, resource: resource, element: element)
        }
    }

    /// The values a path names: every value of a multi-valued attribute, each element's
    /// sub-attribute, or a multi-valued complex attribute's `value`s.
    static func values(
        _ path: SCIMAttributePath, type: SCIMResourceType, resource: [String: JSONValue], element: (SCIMTarget, [String: JSONValue])?
    ) -> (SCIMTarget, [JSONValue])? {
        if let (parent, object) = element {
            guard let attribute = parent.attribute, let sub = attribute.subAttribute(named: path.attribute) else { return nil }
            return (SCIMTarget(container: parent.container, attribute: attribute, subAttribute: sub), flatten(object[sub.name]))
        }
        guard let target = try? type.resolve(path), let attribute = target.attribute else { return nil }
        let container = target.container.map { resource[$0]?.objectValue ?? [:] } ?? resource
        let items = flatten(container[attribute.name])
        if let sub = target.subAttribute {
            return (target, items.flatMap { flatten($0.objectValue?[sub.name]) })
        }
        if attribute.isComplex, attribute.subAttribute(named: "value") != nil {
            return (target, items.compactMap { $0.objectValue?["value"] })
        }
        return (target, items)
    }

    static func flatten(_ value: JSONValue?) -> [JSONValue] {
        switch value {
        case nil, .null?: []
        case .array(let list)?: list.filter { $0 != .null }
        case let single?: [single]
        }
    }

    static func isPresent(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .string(let text): !text.isEmpty
        case .array(let list): !list.isEmpty
        case .object(let object): !object.isEmpty
        default: true
        }
    }

    static func compare(_ values: [JSONValue], _ comparison: SCIMComparison, _ wanted: SCIMFilterValue, attribute: SCIMAttribute) -> Bool {
        if wanted == .null {
            let present = values.contains(where: isPresent)
            return comparison == .eq ? !present : present
        }
        if comparison == .ne {
            return !compare(values, .eq, wanted, attribute: attribute)
        }
        return values.contains { compare($0, comparison, wanted, attribute: attribute) }
    }

    static func compare(_ value: JSONValue, _ comparison: SCIMComparison, _ wanted: SCIMFilterValue, attribute: SCIMAttribute) -> Bool {
        switch (value, wanted) {
        case (.bool(let have), .bool(let want)):
            return comparison == .eq && have == want
        case (.number(let have), .number(let want)):
            return order(comparison, have, want)
        case (.string(let have), .string(let want)):
            if attribute.kind == .dateTime, ![.co, .sw, .ew].contains(comparison),
               let haveDate = SCIMDateTime.parse(have), let wantDate = SCIMDateTime.parse(want) {
                return order(comparison, haveDate, wantDate)
            }
            let a = attribute.caseExact ? have : SCIMName.key(have)
            let b = attribute.caseExact ? want : SCIMName.key(want)
            switch comparison {
            case .co: return a.contains(b)
            case .sw: return a.hasPrefix(b)
            case .ew: return a.hasSuffix(b)
            default: return order(comparison, a, b)
            }
        default:
            return false
        }
    }

    static func order<T: Comparable>(_ comparison: SCIMComparison, _ a: T, _ b: T) -> Bool {
        switch comparison {
        case .eq: a == b
        case .ne: a != b
        case .gt: a > b
        case .ge: a >= b
        case .lt: a < b
        case .le: a <= b
        case .co, .sw, .ew: false
        }
    }
}
