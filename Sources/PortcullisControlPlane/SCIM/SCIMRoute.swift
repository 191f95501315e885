import Foundation
import HTTPTypes
import PortcullisCore

/// What a path under `/_portcullis/scim/v2` names (RFC 7644 §3.2), decided in one place so that
/// unknown paths answer 404 and unsupported methods 405, both with SCIM error bodies.
enum SCIMRoute: Hashable, Sendable {
    case serviceProviderConfig
    case resourceTypes
    case resourceType(String)
    case schemas
    case schema(String)
    /// `/Users` or `/Groups`.
    case collection(SCIMResourceType)
    case resource(SCIMResourceType, id: String)
    /// `/.search`, `/Users/.search`, `/Groups/.search`; `nil` searches every type.
    case search(SCIMResourceType?)

    static let prefix = "/_portcullis/scim/v2"

    /// The route for a request path, or `nil` for a path SCIM does not define.
    init?(path: String) {
        guard path.hasPrefix(Self.prefix) else { return nil }
        let rest = path.dropFirst(Self.prefix.count)
        guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        var parts = rest.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if parts.last == "" { parts.removeLast() }
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        let decoded = parts.map { $0.removingPercentEncoding ?? "" }
        guard decoded.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 255 }) else { return nil }
        switch decoded.count {
        case 1:
            switch decoded[0] {
            case "ServiceProviderConfig": self = .serviceProviderConfig
            case "ResourceTypes": self = .resourceTypes
            case "Schemas": self = .schemas
            case ".search": self = .search(nil)
            case "Users": self = .collection(SCIMSchemaCatalog.userType)
            case "Groups": self = .collection(SCIMSchemaCatalog.groupType)
            default: return nil
            }
        case 2:
            switch (decoded[0], decoded[1]) {
            case ("ResourceTypes", let id): self = .resourceType(id)
            case ("Schemas", let id): self = .schema(id)
            case ("Users", ".search"): self = .search(SCIMSchemaCatalog.userType)
            case ("Groups", ".search"): self = .search(SCIMSchemaCatalog.groupType)
            case ("Users", let id): self = .resource(SCIMSchemaCatalog.userType, id: id)
            case ("Groups", let id): self = .resource(SCIMSchemaCatalog.groupType, id: id)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The methods this route answers.
    var methods: [HTTPRequest.Method] {
        switch self {
        case .serviceProviderConfig, .resourceTypes, .resourceType, .schemas, .schema: [.get, .head]
        case .collection: [.get, .head, .post]
        case .resource: [.get, .head, .put, .patch, .delete]
        case .search: [.post]
        }
    }
}
