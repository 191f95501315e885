import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PortcullisCore
import PortcullisDataPath

/// SCIM 2.0 (RFC 7643/7644) at `/_portcullis/scim/v2/`: how the identity provider creates,
/// updates, deactivates and deletes users and groups. Authenticated by the SCIM bearer token
/// (`identity.scim`). Deactivating or deleting a user ends their sessions and API tokens at
/// once on every instance; membership changes apply to effective roles at once.
package final class SCIMEndpoints: Sendable {
    package struct Dependencies: Sendable {
        package var store: any GatewayStore
        package var cache: SessionCache
        package var token: String
        package var publicOrigin: String
        package var maximumBodyBytes: Int
        package var logger: Logger
        package var now: @Sendable () -> Date

        package init(
            store: any GatewayStore, cache: SessionCache, token: String, publicOrigin: String, maximumBodyBytes: Int, logger: Logger,
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
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
    var store: any GatewayStore { dependencies.store }
    var base: String { dependencies.publicOrigin + "/_portcullis/scim/v2" }
    static let defaultCount = 100
    static let maximumCount = 200

    package init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    typealias Handler = @Sendable (Request, ControlPlaneRequestContext) async throws -> Response

    package func register(on router: Router<ControlPlaneRequestContext>) {
        let scim = router.group("_portcullis/scim/v2")
        scim.get("ServiceProviderConfig") { request, context in await self.respond(request, context) { _, _ in Self.json(SCIMDiscovery.serviceProviderConfig(base: self.base)) } }
        scim.get("ResourceTypes") { request, context in await self.respond(request, context) { _, _ in Self.json(SCIMDiscovery.resourceTypes(base: self.base)) } }
        scim.get("ResourceTypes/:id") { request, context in await self.respond(request, context, self.resourceType) }
        scim.get("Schemas") { request, context in await self.respond(request, context) { _, _ in Self.json(SCIMDiscovery.schemas()) } }
        scim.get("Schemas/:id") { request, context in await self.respond(request, context, self.schema) }
        scim.get("Users") { request, context in await self.respond(request, context, self.listUsers) }
        scim.post("Users") { request, context in await self.respond(request, context, self.createUser) }
        scim.get("Users/:id") { request, context in await self.respond(request, context, self.getUser) }
        scim.put("Users/:id") { request, context in await self.respond(request, context, self.replaceUser) }
        scim.patch("Users/:id") { request, context in await self.respond(request, context, self.patchUser) }
        scim.delete("Users/:id") { request, context in await self.respond(request, context, self.deleteUser) }
        scim.get("Groups") { request, context in await self.respond(request, context, self.listGroups) }
        scim.post("Groups") { request, context in await self.respond(request, context, self.createGroup) }
        scim.get("Groups/:id") { request, context in await self.respond(request, context, self.getGroup) }
        scim.put("Groups/:id") { request, context in await self.respond(request, context, self.replaceGroup) }
        scim.patch("Groups/:id") { request, context in await self.respond(request, context, self.patchGroup) }
        scim.delete("Groups/:id") { request, context in await self.respond(request, context, self.deleteGroup) }
    }

    // MARK: - plumbing

    func respond(_ request: Request, _ context: ControlPlaneRequestContext, _ handler: Handler) async -> Response {
        do {
            guard let header = request.headers[.authorization], header.utf8.count > 7, header.prefix(7).lowercased() == "bearer ",
                  ConstantTime.equal(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), dependencies.token) else {
                dependencies.logger.warning("SCIM request refused: bad or missing token", metadata: ["client": "\(context.clientAddress)"])
                throw SCIMError.unauthorized
            }
            return try await handler(request, context)
        } catch let error as SCIMError {
            return Self.error(error)
        } catch let conflict as StoreConflict {
            return Self.error(.uniqueness(conflict.description))
        } catch let error as StoreError {
            dependencies.logger.error("SCIM: the store failed", metadata: ["error": "\(error)"])
            return Self.error(.unavailable)
        } catch {
            dependencies.logger.error("SCIM request failed", metadata: ["error": "\(error)"])
            return Self.error(SCIMError(status: .internalServerError, scimType: nil, detail: "the request failed"))
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/scim+json"]
        ControlPlanePages.securityHeaders(&headers)
        if let location { headers[.location] = location }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: SCIMError) -> Response {
        var body: [String: JSONValue] = [
            "schemas": .array([.string(SCIMResources.errorSchema)]),
            "status": .string(String(error.status.code)),
            "detail": .string(error.detail),
        ]
        if let type = error.scimType { body["scimType"] = .string(type) }
        var response = json(.object(body), status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"portcullis-scim\"" }
        return response
    }

    func body(_ request: Request) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: dependencies.maximumBodyBytes)
        } catch {
            throw SCIMError.tooLarge
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw SCIMError.invalidSyntax("the body is not valid JSON")
        }
    }

    static func identifier(_ context: ControlPlaneRequestContext) throws(SCIMError) -> String {
        guard let id = context.parameters.get("id")?.removingPercentEncoding, !id.isEmpty, id.utf8.count <= 255 else {
            throw .invalidValue("the id in the path is malformed")
        }
        return id
    }

    func audit(_ context: ControlPlaneRequestContext) -> AuditContext {
        AuditContext(actor: "scim", actorIsSuperAdmin: false, sourceIP: context.clientAddress.description, at: dependencies.now())
    }

    /// A query parameter, form-decoded: `+` is a space (clients send filters either way), `%2B`
    /// a plus.
    static func parameter(_ name: String, in request: Request) -> String? {
        guard let query = request.uri.query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].removingPercentEncoding == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    /// `startIndex` (1-based) and `count`, bounded.
    static func page(_ request: Request) throws(SCIMError) -> (startIndex: Int, count: Int) {
        let parameters = request.uri.queryParameters
        var startIndex = 1
        var count = defaultCount
        if let text = parameters["startIndex"] {
            guard let value = Int(text) else { throw .invalidValue("startIndex must be a number") }
            startIndex = max(1, value)
        }
        if let text = parameters["count"] {
            guard let value = Int(text) else { throw .invalidValue("count must be a number") }
            count = min(max(0, value), maximumCount)
        }
        return (startIndex, count)
    }

    /// Changes to users and groups apply to the next request on this instance; other
    /// instances hear of them from the store.
    func applied(_ outcome: DeprovisioningOutcome? = nil, userID: String? = nil) {
        if let outcome {
            for hash in outcome.revokedSessions { dependencies.cache.evict(hash) }
        }
        if let userID { dependencies.cache.evict(userID: userID) }
        dependencies.cache.version.bump()
    }

    // MARK: - discovery

    @Sendable func resourceType(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let type = SCIMDiscovery.resourceType(id, base: base) else { throw SCIMError.notFound("no resource type \(id)") }
        return Self.json(type)
    }

    @Sendable func schema(_ request: Request, _ context: ControlPlaneRequestContext) async throws -> Response {
        let id = try Self.identifier(context)
        guard let schema = SCIMDiscovery.schema(id) else { throw SCIMError.notFound("no schema \(id)") }
        return Self.json(schema)
    }
}
