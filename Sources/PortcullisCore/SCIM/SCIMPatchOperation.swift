/// One operation of a PATCH request (RFC 7644 §3.5.2). `op` is read without regard to case, so
/// Entra ID's `"Replace"`, `"Add"` and `"Remove"` are accepted as sent.
public struct SCIMPatchOperation: Hashable, Sendable {
    public enum Op: String, Hashable, Sendable {
        case add, replace, remove
    }

    public let op: Op
    public let path: SCIMPatchPath?
    public let value: JSONValue?

    public static let maximumOperations = 1_000

    public init(op: Op, path: SCIMPatchPath?, value: JSONValue?) {
        self.op = op
        self.path = path
        self.value = value
    }

    /// The operations of a PatchOp body: `schemas` must name
    /// `urn:ietf:params:scim:api:messages:2.0:PatchOp`, `Operations` must be a non-empty list.
    public static func operations(from body: JSONValue) throws(SCIMFailure) -> [SCIMPatchOperation] {
        guard let object = body.objectValue else { throw .invalidSyntax("the body must be a JSON object") }
        let fields = Self.caseInsensitive(object)
        guard let schemas = fields["schemas"]?.stringList, schemas.contains(where: { SCIMName.equal($0, SCIMSchemaCatalog.patchOpSchema) }) else {
            throw .invalidSyntax("schemas must contain \(SCIMSchemaCatalog.patchOpSchema)")
        }
        guard let items = fields["operations"]?.arrayValue, !items.isEmpty else {
            throw .invalidSyntax("Operations must be a non-empty list")
        }
        guard items.count <= maximumOperations else { throw .tooMany("at most \(maximumOperations) operations per request") }
        var operations: [SCIMPatchOperation] = []
        for (index, item) in items.enumerated() {
            guard let entry = item.objectValue.map(Self.caseInsensitive) else {
                throw .invalidSyntax("operation \(index + 1) is not an object")
            }
            guard let name = entry["op"]?.stringValue, let op = Op(rawValue: SCIMName.key(name)) else {
                throw .invalidSyntax("operation \(index + 1) needs op: add, replace or remove")
            }
            var path: SCIMPatchPath?
            switch entry["path"] {
            case nil, .null?: break
            case .string(let text)?:
                let trimmed = SCIMDocument.trim(text)
                if !trimmed.isEmpty { path = try SCIMPatchPath(parsing: trimmed) }
            default:
                throw .invalidPath("operation \(index + 1): path must be a string")
            }
            let value = entry["value"]
            if op == .remove, path == nil {
                throw .noTarget("operation \(index + 1): remove needs a path")
            }
            if op != .remove, value == nil {
                throw .invalidValue("operation \(index + 1): \(op.rawValue) needs a value")
            }
            operations.append(SCIMPatchOperation(op: op, path: path, value: value))
        }
        return operations
    }

    static func caseInsensitive(_ object: [String: JSONValue]) -> [String: JSONValue] {
        Dictionary(object.map { (SCIMName.key($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}
