import Foundation

/// What a list or `.search` request asks for (RFC 7644 §3.4.2, §3.4.3): a filter, sorting,
/// paging and attribute selection, read from query parameters or a SearchRequest body.
public struct SCIMListQuery: Hashable, Sendable {
    public var filter: SCIMFilter?
    public var sortBy: SCIMAttributePath?
    public var descending: Bool
    /// 1-based.
    public var startIndex: Int
    public var count: Int
    public var selection: SCIMAttributeSelection

    /// At most this many resources per page (`filter.maxResults` in the configuration).
    public static let maximumResults = 200

    public init(
        filter: SCIMFilter? = nil, sortBy: SCIMAttributePath? = nil, descending: Bool = false, startIndex: Int = 1,
        count: Int = maximumResults, selection: SCIMAttributeSelection = .all
    ) {
        self.filter = filter
        self.sortBy = sortBy
        self.descending = descending
        self.startIndex = startIndex
        self.count = count
        self.selection = selection
    }

    /// From query parameters (already percent-decoded). Unknown parameters are ignored.
    public init(parameters: [String: String]) throws(SCIMFailure) {
        func value(_ name: String) -> String? {
            parameters.first { SCIMName.equal($0.key, name) }?.value
        }
        try self.init(
            filter: value("filter"), sortBy: value("sortBy"), sortOrder: value("sortOrder"),
            startIndex: try Self.integer(value("startIndex"), "startIndex"), count: try Self.integer(value("count"), "count"),
            attributes: value("attributes"), excludedAttributes: value("excludedAttributes")
        )
    }

    /// From a `.search` body (`urn:ietf:params:scim:api:messages:2.0:SearchRequest`).
    public init(searchRequest body: JSONValue) throws(SCIMFailure) {
        guard let object = body.objectValue else { throw .invalidSyntax("the body must be a JSON object") }
        let fields = SCIMPatchOperation.caseInsensitive(object)
        if let schemas = fields["schemas"] {
            guard let names = schemas.stringList, names.contains(where: { SCIMName.equal($0, SCIMSchemaCatalog.searchRequestSchema) }) else {
                throw .invalidSyntax("schemas must contain \(SCIMSchemaCatalog.searchRequestSchema)")
            }
        }
        func text(_ name: String) throws(SCIMFailure) -> String? {
            switch fields[SCIMName.key(name)] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw .invalidValue("\(name) must be a string")
            }
        }
        func names(_ name: String) throws(SCIMFailure) -> String? {
            switch fields[SCIMName.key(name)] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case .array(let items)?:
                let strings = items.compactMap(\.stringValue)
                guard strings.count == items.count else { throw .invalidValue("\(name) must be a list of attribute names") }
                return strings.joined(separator: ",")
            default: throw .invalidValue("\(name) must be a list of attribute names")
            }
        }
        func number(_ name: String) throws(SCIMFailure) -> Int? {
            switch fields[SCIMName.key(name)] {
            case nil, .null?: return nil
            case .number(let value)?:
                guard value.rounded() == value, abs(value) < 1e12 else { throw .invalidValue("\(name) must be an integer") }
                return Int(value)
            case .string(let value)?: return try Self.integer(value, name)
            default: throw .invalidValue("\(name) must be an integer")
            }
        }
        try self.init(
            filter: try text("filter"), sortBy: try text("sortBy"), sortOrder: try text("sortOrder"),
            startIndex: try number("startIndex"), count: try number("count"),
            attributes: try names("attributes"), excludedAttributes: try names("excludedAttributes")
        )
    }

    init(
        filter: String?, sortBy: String?, sortOrder: String?, startIndex: Int?, count: Int?, attributes: String?, excludedAttributes: String?
    ) throws(SCIMFailure) {
        self.filter = try filter.flatMap { text throws(SCIMFailure) in text.isEmpty ? nil : try SCIMFilter(parsing: text) }
        if let sortBy, !sortBy.isEmpty {
            do {
                self.sortBy = try SCIMAttributePath(parsing: sortBy)
            } catch {
                throw .invalidValue("sortBy: \(error.detail)")
            }
        } else {
            self.sortBy = nil
        }
        switch sortOrder.map(SCIMName.key) {
        case nil, "ascending"?, ""?: descending = false
        case "descending"?: descending = true
        default: throw .invalidValue("sortOrder must be ascending or descending")
        }
        // RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0.
        self.startIndex = max(1, startIndex ?? 1)
        self.count = min(max(0, count ?? Self.maximumResults), Self.maximumResults)
        selection = try SCIMAttributeSelection(attributes: attributes, excludedAttributes: excludedAttributes)
    }

    static func integer(_ text: String?, _ name: String) throws(SCIMFailure) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int(text), abs(value) < 1_000_000_000_000 else { throw .invalidValue("\(name) must be an integer") }
        return value
    }

    /// Filters, sorts and pages `resources` of one type: the page and the number that
    /// matched. The filter must have been validated for `type`.
    public func page(_ resources: [[String: JSONValue]], type: SCIMResourceType) -> (resources: [[String: JSONValue]], total: Int) {
        let result = page(resources.map { ($0, type) })
        return (result.resources.map(\.0), result.total)
    }

    /// The same over resources of several types (`/.search` at the root).
    public func page(_ resources: [([String: JSONValue], SCIMResourceType)]) -> (resources: [([String: JSONValue], SCIMResourceType)], total: Int) {
        var matched = resources
        if let filter {
            matched = matched.filter { filter.matches($0.0, type: $0.1) }
        }
        if let sortBy {
            let keyed = matched.map { (SCIMSortKey(resource: $0.0, type: $0.1, path: sortBy), $0) }
            matched = keyed.sorted { a, b in
                SCIMSortKey.ordered(a.0, b.0, descending: descending)
            }.map(\.1)
        }
        let total = matched.count
        let start = min(startIndex - 1, total)
        return (Array(matched[start..<min(start + count, total)]), total)
    }
}

/// The value a resource is sorted by (RFC 7644 §3.4.2.3): a multi-valued attribute sorts by
/// its primary value, or else its first; strings without regard to case unless `caseExact`;
/// resources without a value come last in ascending order and first in descending order.
struct SCIMSortKey {
    enum Value {
        case string(String)
        case number(Double)
        case bool(Bool)
    }

    let value: Value?

    init(resource: [String: JSONValue], type: SCIMResourceType, path: SCIMAttributePath) {
        guard let (target, values) = SCIMFilter.values(path, type: type, resource: resource, element: nil),
              let attribute = SCIMFilter.comparedAttribute(target) else {
            value = nil
            return
        }
        var chosen = values.first
        if let owner = target.attribute, owner.multiValued, let items = target.container.map({ resource[$0]?.objectValue?[owner.name] }) ?? resource[owner.name],
           let primary = items.arrayValue?.first(where: { $0.objectValue?["primary"] == .bool(true) })?.objectValue {
            chosen = target.subAttribute.map { primary[$0.name] } ?? primary["value"] ?? chosen
        }
        switch chosen {
        case .string(let text)?:
            if attribute.kind == .dateTime, let date = SCIMDateTime.parse(text) {
                value = .number(date.timeIntervalSince1970)
            } else {
                value = .string(attribute.caseExact ? text : SCIMName.key(text))
            }
        case .number(let number)?: value = .number(number)
        case .bool(let flag)?: value = .bool(flag)
        default: value = nil
        }
    }

    static func ordered(_ a: SCIMSortKey, _ b: SCIMSortKey, descending: Bool) -> Bool {
        switch (a.value, b.value) {
        case (nil, nil): return false
        case (nil, _): return descending
        case (_, nil): return !descending
        case (let x?, let y?):
            let less: Bool, greater: Bool
            switch (x, y) {
            case (.string(let s), .string(let t)): (less, greater) = (s < t, s > t)
            case (.number(let s), .number(let t)): (less, greater) = (s < t, s > t)
            case (.bool(let s), .bool(let t)): (less, greater) = (!s && t, s && !t)
            default: (less, greater) = (false, false)
            }
            return descending ? greater : less
        }
    }
}
