/// A resource's client-written attributes as Portcullis keeps them: canonical attribute names,
/// extensions under their URN, values of the declared types, no nulls and no empty values.
/// ``read(_:type:)`` turns a request body (POST, PUT, or the result of a PATCH) into one.
public enum SCIMDocument {
    /// The most values of a multi-valued attribute, unless the attribute says otherwise.
    public static let maximumValues = 100
    public static let maximumStringBytes = 2_048
    public static let maximumUserNameBytes = 254

    /// The writable attributes of `body`, checked and coerced: the strings `"True"`/`"False"`
    /// some clients send for booleans, a single value for a multi-valued attribute, a string for
    /// a complex attribute with a `value`. Read-only attributes (`id`, `meta`, `groups`) are
    /// ignored, as RFC 7644 §3.3 and §3.5.1 ask; so are attributes no schema defines and
    /// `returned: never` ones (`password`), which are never kept. Required attributes must be
    /// present.
    public static func read(_ body: [String: JSONValue], type: SCIMResourceType) throws(SCIMFailure) -> [String: JSONValue] {
        var document: [String: JSONValue] = [:]
        var extensionValues: [String: [String: JSONValue]] = [:]
        for (key, value) in body {
            if SCIMName.equal(key, "schemas") { continue }
            if let schemaExtension = type.extension(key) {
                guard let object = value.objectValue else {
                    if value == .null { continue }
                    throw .invalidValue("\(schemaExtension.id) must be an object")
                }
                for (name, inner) in object {
                    extensionValues[schemaExtension.id, default: [:]][name] = inner
                }
                continue
            }
            if SCIMName.hasPrefix(key, "urn:") {
                // An extension attribute written flat: "urn:…:User:department": "Sales".
                guard let path = try? SCIMAttributePath(parsing: key), let urn = path.urn, let schemaExtension = type.extension(urn),
                      path.subAttribute == nil else { continue }
                extensionValues[schemaExtension.id, default: [:]][path.attribute] = value
                continue
            }
            guard let attribute = type.topLevelAttribute(named: key) else { continue }
            if let coerced = try coerce(value, attribute, path: attribute.name) {
                document[attribute.name] = coerced
            }
        }
        for (urn, values) in extensionValues {
            guard let schemaExtension = type.extension(urn) else { continue }
            var object: [String: JSONValue] = [:]
            for (name, value) in values {
                guard let attribute = schemaExtension.attribute(named: name) else { continue }
                if let coerced = try coerce(value, attribute, path: "\(urn):\(attribute.name)") {
                    object[attribute.name] = coerced
                }
            }
            if !object.isEmpty { document[urn] = .object(object) }
        }
        for attribute in type.schema.attributes where attribute.required && document[attribute.name] == nil {
            throw .invalidValue("\(attribute.name) is required")
        }
        return document
    }

    /// A value of `attribute` as kept, or `nil` for "no value". Read-only and `never` values
    /// answer `nil`.
    static func coerce(_ value: JSONValue, _ attribute: SCIMAttribute, path: String) throws(SCIMFailure) -> JSONValue? {
        guard attribute.isWritable, attribute.returned != .never else { return nil }
        if value == .null { return nil }
        if attribute.multiValued {
            let items: [JSONValue]
            switch value {
            case .array(let list): items = list
            default: items = [value]
            }
            guard items.count <= attribute.maximumValues else { throw .invalidValue("\(path) has more than \(attribute.maximumValues) values") }
            var kept: [JSONValue] = []
            var seen = Set<JSONValue>()
            var sawPrimary = false
            for item in items {
                guard var single = try coerceSingle(item, attribute, path: path) else { continue }
                // RFC 7643 §2.4: "primary" true appears at most once; the first one stands.
                if case .object(var object) = single, object["primary"] == .bool(true) {
                    if sawPrimary { object["primary"] = .bool(false) }
                    sawPrimary = true
                    single = .object(object)
                }
                if seen.insert(single).inserted { kept.append(single) }
            }
            return kept.isEmpty ? nil : .array(kept)
        }
        if case .array(let list) = value {
            // One value in a list, for a single-valued attribute.
            guard list.count <= 1 else { throw .invalidValue("\(path) takes one value, not a list") }
            guard let only = list.first else { return nil }
            return try coerceSingle(only, attribute, path: path)
        }
        return try coerceSingle(value, attribute, path: path)
    }

    static func coerceSingle(_ value: JSONValue, _ attribute: SCIMAttribute, path: String) throws(SCIMFailure) -> JSONValue? {
        if value == .null { return nil }
        switch attribute.kind {
        case .complex:
            var object: [String: JSONValue]
            switch value {
            case .object(let fields): object = fields
            case .string, .number, .bool:
                // `"manager": "id"`: the value of a complex attribute that has one.
                guard attribute.subAttribute(named: "value") != nil else { throw .invalidValue("\(path) must be an object") }
                object = ["value": value]
            default: throw .invalidValue("\(path) must be an object")
            }
            var kept: [String: JSONValue] = [:]
            for (name, inner) in object {
                guard let sub = attribute.subAttribute(named: name) else { continue }
                guard sub.isWritable, sub.returned != .never else { continue }
                if case .array = inner { throw .invalidValue("\(path).\(sub.name) takes one value") }
                if let coerced = try coerceSingle(inner, sub, path: "\(path).\(sub.name)") { kept[sub.name] = coerced }
            }
            return kept.isEmpty ? nil : .object(kept)
        case .boolean:
            if case .bool = value { return value }
            if case .string(let text) = value {
                switch SCIMName.key(text) {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: break
                }
            }
            throw .invalidValue("\(path) must be true or false")
        case .integer:
            if case .number(let number) = value, number.rounded() == number, abs(number) < 9_007_199_254_740_992 { return value }
            if case .string(let text) = value, let number = Int(text) { return .number(Double(number)) }
            throw .invalidValue("\(path) must be an integer")
        case .decimal:
            if case .number(let number) = value, number.isFinite { return value }
            throw .invalidValue("\(path) must be a number")
        case .dateTime:
            guard case .string(let text) = value, SCIMDateTime.parse(text) != nil else {
                throw .invalidValue("\(path) must be a dateTime such as \"2024-05-01T12:00:00Z\"")
            }
            return value
        case .binary:
            guard case .string(let text) = value, text.utf8.allSatisfy(isBase64Byte) else {
                throw .invalidValue("\(path) must be base64")
            }
            guard text.utf8.count <= 16_384 else { throw .invalidValue("\(path) is longer than 16384 bytes") }
            return text.isEmpty ? nil : value
        case .string, .reference:
            let text: String
            switch value {
            case .string(let string): text = string
            case .number(let number) where attribute.kind == .string:
                // Numbers sent for strings (employeeNumber: 1234) are kept as text.
                text = number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
            case .bool(let flag) where attribute.kind == .string: text = flag ? "true" : "false"
            default: throw .invalidValue("\(path) must be a string")
            }
            return try clean(text, path: path, strict: SCIMName.equal(path, "userName")).map(JSONValue.string)
        }
    }

    /// Text as kept: no surrounding white space, bounded, and no control characters (line
    /// breaks and tabs are allowed outside `userName`).
    static func clean(_ text: String, path: String, strict: Bool) throws(SCIMFailure) -> String? {
        let trimmed = trim(text)
        guard !trimmed.isEmpty else { return nil }
        let limit = strict ? maximumUserNameBytes : maximumStringBytes
        guard trimmed.utf8.count <= limit else { throw .invalidValue("\(path) is longer than \(limit) bytes") }
        for scalar in trimmed.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            if strict || !(scalar == "\n" || scalar == "\r" || scalar == "\t") {
                throw .invalidValue("\(path) contains control characters")
            }
        }
        return trimmed
    }

    static func trim(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    static func isBase64Byte(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
            || byte == 0x2B || byte == 0x2F || byte == 0x3D || byte == 0x2D || byte == 0x5F
    }

    // MARK: reading values

    /// A string attribute of the document (top level, or in an extension).
    public static func string(_ document: [String: JSONValue], _ name: String, in urn: String? = nil) -> String? {
        let container = urn.map { document[$0]?.objectValue ?? [:] } ?? document
        return container[name]?.stringValue
    }
}
