import Foundation
import Hummingbird
import PortcullisCore
import PortcullisDataPath

extension AdminAPI {
    /// `GET /settings/default-member-permissions`.
    @Sendable func defaultMemberPermissions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        try actor.require(.settingsManage)
        return Self.rawJSON(try await store.defaultMemberPermissions())
    }

    /// `PUT /settings/default-member-permissions {"answers.create": false, …}`: switches not
    /// named keep their value; unknown names are refused.
    @Sendable func changeDefaultMemberPermissions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        try actor.require(.settingsManage)
        let changes = try await decodeSwitches(from: request)
        var permissions = try await store.defaultMemberPermissions()
        for (name, value) in changes {
            guard let permission = Permission(rawValue: name), permissions.set(permission, to: value) else {
                throw AdminAPIError.badRequest(
                    "\"\(name.prefix(64))\" is not a default member permission; they are "
                        + DefaultMemberPermissions.switchable.map(\.rawValue).joined(separator: ", "),
                    reason: "unknown_permission"
                )
            }
        }
        try await store.setDefaultMemberPermissions(permissions, audit: actor.audit(at: dependencies.now()))
        await policyChanged()
        logger.info("default member permissions changed", metadata: ["actor": "\(actor.email)"])
        return Self.rawJSON(permissions)
    }

    /// `GET /settings/feature-flags`.
    @Sendable func featureFlags(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        try actor.require(.settingsManage)
        return Self.rawJSON(try await store.featureFlags())
    }

    /// `PUT /settings/feature-flags {"group_based_permissions": false}`.
    @Sendable func changeFeatureFlags(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        try actor.require(.settingsManage)
        let changes = try await decodeSwitches(from: request)
        var flags = try await store.featureFlags()
        for (name, value) in changes {
            switch name {
            case "group_based_permissions": flags.groupBasedPermissions = value
            default:
                throw AdminAPIError.badRequest("\"\(name.prefix(64))\" is not a feature flag; the flags are group_based_permissions",
                                               reason: "unknown_flag")
            }
        }
        try await store.setFeatureFlags(flags, audit: actor.audit(at: dependencies.now()))
        await policyChanged()
        logger.info("feature flags changed", metadata: ["actor": "\(actor.email)"])
        return Self.rawJSON(flags)
    }

    /// A JSON object of booleans.
    func decodeSwitches(from request: Request) async throws -> [String: Bool] {
        let switches = try await decode([String: Bool].self, from: request, convertingKeys: false)
        guard switches.count <= 32 else { throw AdminAPIError.badRequest("too many switches") }
        return switches
    }

    /// Values whose own `Codable` already names the keys (`answers.create`).
    static func rawJSON<T: Encodable>(_ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headers: HTTPFields = [.contentType: "application/json"]
        ControlPlanePages.securityHeaders(&headers)
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
