/// One attribute of a SCIM schema (RFC 7643 §7): what it holds and how clients may use it.
/// Everything the server does with SCIM data (reading bodies, filters, PATCH, attribute
/// selection, the `/Schemas` answer) is driven by these definitions, so discovery tells the
/// truth by construction.
public struct SCIMAttribute: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case string, boolean, decimal, integer, dateTime, reference, complex, binary
    }

    public enum Mutability: String, Hashable, Sendable {
        case readOnly, readWrite, immutable, writeOnly
    }

    public enum Returned: String, Hashable, Sendable {
        case always, never, `default`, request
    }

    public enum Uniqueness: String, Hashable, Sendable {
        case none, server, global
    }

    public var name: String
    public var kind: Kind
    public var multiValued: Bool
    public var required: Bool
    public var caseExact: Bool
    public var mutability: Mutability
    public var returned: Returned
    public var uniqueness: Uniqueness
    public var subAttributes: [SCIMAttribute]
    public var canonicalValues: [String]
    public var referenceTypes: [String]
    public var description: String
    /// The most values a multi-valued attribute takes in one request.
    public var maximumValues: Int

    public init(
        _ name: String,
        _ kind: Kind = .string,
        multiValued: Bool = false,
        required: Bool = false,
        caseExact: Bool = false,
        mutability: Mutability = .readWrite,
        returned: Returned = .default,
        uniqueness: Uniqueness = .none,
        subAttributes: [SCIMAttribute] = [],
        canonicalValues: [String] = [],
        referenceTypes: [String] = [],
        description: String = "",
        maximumValues: Int = 100
    ) {
        self.name = name
        self.kind = kind
        self.multiValued = multiValued
        self.required = required
        self.caseExact = caseExact
        self.mutability = mutability
        self.returned = returned
        self.uniqueness = uniqueness
        self.subAttributes = subAttributes
        self.canonicalValues = canonicalValues
        self.referenceTypes = referenceTypes
        self.description = description
        self.maximumValues = maximumValues
    }

    /// A sub-attribute by name, without regard to case (RFC 7643 §2.1).
    public func subAttribute(named name: some StringProtocol) -> SCIMAttribute? {
        subAttributes.first { SCIMName.equal($0.name, name) }
    }

    public var isComplex: Bool { kind == .complex }

    /// Clients may write it (in a body or a PATCH).
    public var isWritable: Bool { mutability == .readWrite || mutability == .writeOnly || mutability == .immutable }

    /// The definition as `/Schemas` shows it.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "type": .string(kind.rawValue), "multiValued": .bool(multiValued),
            "description": .string(description), "required": .bool(required), "mutability": .string(mutability.rawValue),
            "returned": .string(returned.rawValue),
        ]
        if kind != .complex && kind != .boolean {
            object["caseExact"] = .bool(caseExact)
        }
        if kind == .string || kind == .reference || kind == .binary {
            object["uniqueness"] = .string(uniqueness.rawValue)
        }
        if !subAttributes.isEmpty { object["subAttributes"] = .array(subAttributes.map(\.json)) }
        if !canonicalValues.isEmpty { object["canonicalValues"] = .array(canonicalValues.map(JSONValue.string)) }
        if kind == .reference { object["referenceTypes"] = .array(referenceTypes.map(JSONValue.string)) }
        return .object(object)
    }
}

/// SCIM names compare without regard to ASCII case (RFC 7643 §2.1).
public enum SCIMName {
    public static func equal(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    public static func key(_ name: some StringProtocol) -> String {
        String(decoding: name.utf8.map(lower), as: UTF8.self)
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    public static func hasPrefix(_ text: some StringProtocol, _ prefix: some StringProtocol) -> Bool {
        guard text.utf8.count >= prefix.utf8.count else { return false }
        return zip(text.utf8, prefix.utf8).allSatisfy { lower($0) == lower($1) }
    }
}
