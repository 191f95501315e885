import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PortcullisCore

/// SCIM 2.0 (RFC 7643/7644) at `/_portcullis/scim/v2/`: how the identity provider creates,
/// updates, deactivates and deletes users and groups. Authenticated by the SCIM bearer token
/// (`identity.scim`). Deactivating or deleting a user ends their sessions and API tokens at
/// once on every instance; membership changes apply to effective roles at once, after the same
/// safety rails as a direct role change.
///
/// Every path under the prefix comes here and is routed by ``SCIMRoute``: unknown paths answer
/// 404 and unsupported methods 405, both with SCIM error bodies.
package final class SCIMEndpoints: Sendable {
    package struct Dependencies: Sendable {
        package var store: any ProvisioningStore & DirectoryStore
        package var cache: any CredentialInvalidation
        package var token: String
        package var publicOrigin: String
        package var maximumBodyBytes: Int
        package var logger: Logger
        package var now: @Sendable () -> Date
        /// How long a read (`GET`, `HEAD`) may wait on the store (`store.request_deadline`).
        package var deadline: StoreDeadline

        package init(
            store: any ProvisioningStore & DirectoryStore, cache: any CredentialInvalidation, token: String, publicOrigin: String,
            maximumBodyBytes: Int, logger: Logger, deadline: StoreDeadline = .requestPath, now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.deadline = deadline
            self.store = store
            self.cache = cache
            self.token = token
            self.publicOrigin = publicOrigin
            self.maximumBodyBytes = maximumBodyBytes
            self.logger = logger
            self.now = now
        }
    }

    let dependencies: Dependencies
    var store: any ProvisioningStore & DirectoryStore { dependencies.store }
    var logger: Logger { dependencies.logger }
    var base: String { dependencies.publicOrigin + SCIMRoute.prefix }
    static let mediaType = "application/scim+json"

    package init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    package func register(on router: Router<ControlPlaneRequestContext>) {
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options]
        for path in ["_portcullis/scim/v2", "_portcullis/scim/v2/**"] {
            for method in methods {
                router.on(RouterPath(path), method: method) { request, context in await self.respond(request, context) }
            }
        }
    }

    // MARK: - plumbing

    func respond(_ request: Request, _ context: ControlPlaneRequestContext) async -> Response {
        do {
            guard let header = request.headers[.authorization], header.utf8.count > 7, header.prefix(7).lowercased() == "bearer ",
                  ConstantTime.equal(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), dependencies.token) else {
                logger.warning("SCIM request refused: bad or missing token", metadata: ["client": "\(context.clientAddress)"])
                return Self.unauthorized()
            }
            guard let route = SCIMRoute(path: request.uri.path) else {
                throw SCIMFailure.notFound("\(SCIMFailure.quoted(request.uri.path)) is not a SCIM endpoint")
            }
            guard route.methods.contains(request.method) else {
                var response = Self.error(.methodNotAllowed("\(request.method.rawValue) is not supported here"))
                response.headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
                return response
            }
            // Reads wait on the store for the request deadline at most; changes are not cut short.
            guard request.method == .get || request.method == .head else { return try await dispatch(route, request, context) }
            return try await dependencies.deadline.run { try await self.dispatch(route, request, context) }
        } catch {
            return answer(error)
        }
    }

    func dispatch(_ route: SCIMRoute, _ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        switch (route, request.method) {
        case (.serviceProviderConfig, _): return Self.json(SCIMDiscovery.serviceProviderConfig(base: base))
        case (.resourceTypes, _): return Self.json(SCIMDiscovery.resourceTypes(base: base))
        case (.resourceType(let id), _):
            guard let type = SCIMSchemaCatalog.resourceType(named: id) else { throw SCIMFailure.notFound("no resource type \(SCIMFailure.quoted(id))") }
            return Self.json(type.json(base: base))
        case (.schemas, _): return Self.json(SCIMDiscovery.schemas(base: base))
        case (.schema(let id), _):
            guard let schema = SCIMSchemaCatalog.schema(id: id) else { throw SCIMFailure.notFound("no schema \(SCIMFailure.quoted(id))") }
            return Self.json(schema.json(base: base))
        case (.collection(let type), .post):
            return type == SCIMSchemaCatalog.userType ? try await createUser(request, context) : try await createGroup(request, context)
        case (.collection(let type), _):
            return try await list(type: type, query: try SCIMListQuery(parameters: Self.parameters(request)))
        case (.search(let type), _):
            let query = try SCIMListQuery(searchRequest: try await body(request))
            if let type { return try await list(type: type, query: query) }
            return try await searchEverything(query)
        case (.resource(let type, let id), .get), (.resource(let type, let id), .head):
            return type == SCIMSchemaCatalog.userType ? try await getUser(id, request) : try await getGroup(id, request)
        case (.resource(let type, let id), .put):
            return type == SCIMSchemaCatalog.userType ? try await replaceUser(id, request, context) : try await replaceGroup(id, request, context)
        case (.resource(let type, let id), .patch):
            return type == SCIMSchemaCatalog.userType ? try await patchUser(id, request, context) : try await patchGroup(id, request, context)
        case (.resource(let type, let id), _):
            return type == SCIMSchemaCatalog.userType ? try await deleteUser(id, request, context) : try await deleteGroup(id, request, context)
        }
    }

    /// Every failure as a SCIM error body (RFC 7644 §3.12). Store failures never leak detail.
    func answer(_ error: any Error) -> Response {
        switch error {
        case let failure as SCIMFailure:
            return Self.error(failure)
        case let conflict as StoreConflict:
            return Self.error(.uniqueness(conflict.description))
        case is StoreVersionConflict:
            return Self.error(.preconditionFailed("the resource changed since the version in If-Match"))
        case let unknown as StoreUnknownReferences:
            return Self.error(.invalidValue("no user with id " + unknown.ids.prefix(5).map { SCIMFailure.quoted($0) }.joined(separator: ", ")))
        case let refusal as RoleChangeRefusal:
            logger.notice("SCIM change refused by the role rules", metadata: ["reason": "\(refusal.code.rawValue)"])
            return Self.error(SCIMFailure(status: refusal.status, scimType: nil, detail: refusal.message))
        case let error as StoreError:
            logger.error("SCIM: the store failed", metadata: ["error": "\(error)"])
            return Self.error(SCIMFailure(status: 503, scimType: nil, detail: "the store cannot be reached; nothing was changed"))
        case let exceeded as StoreDeadline.Exceeded:
            logger.error("SCIM: the store did not answer", metadata: ["error": "\(exceeded)"])
            return Self.error(SCIMFailure(status: 503, scimType: nil, detail: "the store cannot be reached; nothing was changed"))
        default:
            logger.error("SCIM request failed", metadata: ["error": "\(error)"])
            return Self.error(SCIMFailure(status: 500, scimType: nil, detail: "the request failed"))
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, location: String? = nil, etag: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: mediaType]
        ControlPlanePages.securityHeaders(&headers)
        if let location { headers[.location] = location }
        if let etag { headers[.eTag] = etag }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ failure: SCIMFailure) -> Response {
        var body: [String: JSONValue] = [
            "schemas": .array([.string(SCIMSchemaCatalog.errorSchema)]),
            "status": .string(String(failure.status)),
            "detail": .string(failure.detail),
        ]
        if let type = failure.scimType { body["scimType"] = .string(type.rawValue) }
        return json(.object(body), status: HTTPResponse.Status(code: failure.status))
    }

    static func unauthorized() -> Response {
        var response = error(SCIMFailure(status: 401, scimType: nil, detail: "a valid SCIM bearer token is required"))
        response.headers[.wwwAuthenticate] = "Bearer realm=\"portcullis-scim\""
        return response
    }

    func body(_ request: Request) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: dependencies.maximumBodyBytes)
        } catch {
            throw SCIMFailure(status: 413, scimType: nil, detail: "the request body is larger than \(dependencies.maximumBodyBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw SCIMFailure.invalidSyntax("the body is not valid JSON")
        }
    }

    func object(_ request: Request) async throws -> [String: JSONValue] {
        guard let object = try await body(request).objectValue else { throw SCIMFailure.invalidSyntax("the body must be a JSON object") }
        return object
    }

    /// Query parameters, form-decoded: `+` is a space (clients send filters either way), `%2B`
    /// a plus. A repeated name keeps its first value.
    static func parameters(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        guard let query = request.uri.query else { return result }
        for pair in query.split(separator: "&").prefix(64) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let name = parts[0].removingPercentEncoding, result[name] == nil,
                  let value = String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { continue }
            result[name] = value
        }
        return result
    }

    /// `attributes`/`excludedAttributes` of a request that answers with one resource.
    static func selection(_ request: Request) throws(SCIMFailure) -> SCIMAttributeSelection {
        let parameters = parameters(request)
        return try SCIMAttributeSelection(attributes: parameters["attributes"], excludedAttributes: parameters["excludedAttributes"])
    }

    /// The version `If-Match` allows a write on, given the resource's `current` version: 412
    /// when the header names another.
    static func expectedVersion(_ request: Request, current: Int) throws(SCIMFailure) -> Int? {
        guard let condition = SCIMETag.Condition(request.headers[.ifMatch]) else { return nil }
        guard condition.matches(current) else { throw .preconditionFailed("the resource is at version \(SCIMETag.tag(current)), not the one in If-Match") }
        return current
    }

    /// A single resource, honouring `attributes`, `excludedAttributes` and `If-None-Match`.
    func resource(
        _ resource: [String: JSONValue], type: SCIMResourceType, version: Int, request: Request, status: HTTPResponse.Status = .ok,
        location: String? = nil
    ) throws -> Response {
        if request.method == .get || request.method == .head, let condition = SCIMETag.Condition(request.headers[.ifNoneMatch]),
           condition.matches(version) {
            var headers: HTTPFields = [.eTag: SCIMETag.tag(version)]
            ControlPlanePages.securityHeaders(&headers)
            return Response(status: .notModified, headers: headers)
        }
        let shown = try Self.selection(request).apply(to: resource, type: type)
        return Self.json(.object(shown), status: status, location: location, etag: SCIMETag.tag(version))
    }

    func audit(_ context: ControlPlaneRequestContext) -> AuditContext {
        AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: context.clientAddress.description, at: dependencies.now())
    }

    /// Changes to users and groups apply to the next request on this instance; other
    /// instances hear of them from the store.
    func applied(_ outcome: DeprovisioningOutcome? = nil, userID: String? = nil) {
        if let outcome {
            for hash in outcome.revokedSessions { dependencies.cache.evict(hash) }
        }
        if let userID { dependencies.cache.evict(userID: userID) }
        dependencies.cache.policyDidChange()
    }
}
