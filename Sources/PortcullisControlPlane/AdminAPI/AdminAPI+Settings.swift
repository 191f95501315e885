import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PortcullisCore

extension AdminAPI {
    /// `GET /settings/default-member-permissions`: the switches and their `version` (also the
    /// `ETag`), which a change must name.
    @Sendable func defaultMemberPermissions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let current = try await store.versionedDefaultMemberPermissions()
        return Self.versionedJSON(current.value, version: current.version)
    }

    /// `PUT /settings/default-member-permissions {"answers.create": false, …, "version": N}` (or
    /// `If-Match: "N"`): compare-and-set, so that two admins cannot silently overwrite each
    /// other (409 `conflict`). Switches not named keep their value; unknown names are refused.
    @Sendable func changeDefaultMemberPermissions(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let (changes, version) = try await decodeSwitches(from: request)
        let current = try await store.versionedDefaultMemberPermissions()
        var permissions = current.value
        for (name, value) in changes {
            guard let permission = Permission(rawValue: name), permissions.set(permission, to: value) else {
                throw AdminAPIError.badRequest(
                    "\"\(name.prefix(64))\" is not a default member permission; they are "
                        + DefaultMemberPermissions.switchable.map(\.rawValue).joined(separator: ", "),
                    reason: "unknown_permission"
                )
            }
        }
        let written: Int
        do {
            written = try await store.setDefaultMemberPermissions(
                permissions, expectedVersion: try Self.required(version), audit: actor.audit(at: dependencies.now())
            )
        } catch let conflict as StoreVersionConflict {
            throw Self.settingsConflict(conflict)
        }
        await policyChanged()
        logger.info("default member permissions changed", metadata: ["actor": "\(actor.email)"])
        return Self.versionedJSON(permissions, version: written)
    }

    /// `GET /settings/feature-flags`.
    @Sendable func featureFlags(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let current = try await store.versionedFeatureFlags()
        return Self.versionedJSON(current.value, version: current.version)
    }

    /// `PUT /settings/feature-flags {"group_based_permissions": false, "version": N}`: turning
    /// group-based permissions off runs the rules of a role change — only a super admin may take
    /// `super_admin` from anyone (403 `super_admin_protected`), and no role may lose its last
    /// holder (409 `last_role_holder`). Compare-and-set like every setting.
    @Sendable func changeFeatureFlags(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let (changes, version) = try await decodeSwitches(from: request)
        for name in changes.keys where name != "group_based_permissions" {
            throw AdminAPIError.badRequest("\"\(name.prefix(64))\" is not a feature flag; the flags are group_based_permissions", reason: "unknown_flag")
        }
        let isSuperAdmin = actor.isSuperAdmin
        let expected = try Self.required(version)
        let result: Result<Versioned<FeatureFlags>, RoleChangeRefusal>
        do {
            result = try await store.changeFeatureFlags(expectedVersion: expected, audit: actor.audit(at: dependencies.now())) { state in
                var flags = state.current.value
                if let value = changes["group_based_permissions"] { flags.groupBasedPermissions = value }
                return RoleChangeSafety.changeFeatureFlags(
                    actorIsSuperAdmin: isSuperAdmin, from: state.current.value, to: flags, users: state.users, holders: state.holders
                ).map { (flags, $0) }
            }
        } catch let conflict as StoreVersionConflict {
            throw Self.settingsConflict(conflict)
        }
        switch result {
        case .failure(let refusal):
            logger.notice("feature flag change refused", metadata: ["actor": "\(actor.email)", "reason": "\(refusal.code.rawValue)"])
            throw AdminAPIError.refused(refusal)
        case .success(let flags):
            await policyChanged()
            logger.info("feature flags changed", metadata: ["actor": "\(actor.email)"])
            return Self.versionedJSON(flags.value, version: flags.version)
        }
    }

    /// A JSON object of booleans and the version it was read at: `"version": N` in the body or
    /// `If-Match: "N"` (``required(_:)`` refuses a change without one).
    func decodeSwitches(from request: Request) async throws -> (switches: [String: Bool], version: Int?) {
        let body = try await decode([String: JSONValue].self, from: request, convertingKeys: false)
        guard body.count <= 33 else { throw AdminAPIError.badRequest("too many switches") }
        var switches: [String: Bool] = [:]
        var version: Int?
        for (name, value) in body {
            if name == "version" {
                guard let number = value.numberValue, number.rounded() == number, number >= 0, number < 1e15 else {
                    throw AdminAPIError.badRequest("version must be a whole number", reason: "invalid_version")
                }
                version = Int(number)
                continue
            }
            guard let flag = value.boolValue else {
                throw AdminAPIError.badRequest("\(name.prefix(64)): expected true or false", reason: "invalid_body")
            }
            switches[name] = flag
        }
        if version == nil, let header = request.headers[.ifMatch] {
            version = Int(header.trimmingCharacters(in: CharacterSet(charactersIn: "W/\" ")))
        }
        return (switches, version)
    }

    /// Settings changes are compare-and-set: a change that names no version is refused (428
    /// `version_required`) rather than allowed to overwrite someone else's.
    static func required(_ version: Int?) throws(AdminAPIError) -> Int {
        guard let version else {
            throw AdminAPIError(
                status: HTTPResponse.Status(code: 428), reason: "version_required",
                message: "name the version you read (\"version\" in the body, or If-Match) so that changes by others are not overwritten"
            )
        }
        return version
    }

    static func settingsConflict(_ conflict: StoreVersionConflict) -> AdminAPIError {
        AdminAPIError.conflict(
            "conflict", "someone changed these settings since version \(conflict.expected) (now \(conflict.current)); read them again and retry"
        )
    }

    /// Values whose own `Codable` already names the keys (`answers.create`), with `version`
    /// added and an `ETag`.
    static func versionedJSON<T: Encodable>(_ value: T, version: Int) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var object = ((try? encoder.encode(value)).flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: $0) }) ?? [:]
        object["version"] = .number(Double(version))
        var headers: HTTPFields = [.contentType: "application/json", .eTag: "\"\(version)\""]
        ControlPlanePages.securityHeaders(&headers)
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
