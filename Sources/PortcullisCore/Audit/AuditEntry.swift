#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an administrative change is, as the audit log names it (SPEC §7).
public struct AuditAction: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static let userRolesChanged = AuditAction(rawValue: "user.roles.changed")
    public static let groupRolesChanged = AuditAction(rawValue: "group.roles.changed")
    public static let defaultMemberPermissionsChanged = AuditAction(rawValue: "settings.default_member_permissions.changed")
    public static let featureFlagsChanged = AuditAction(rawValue: "settings.feature_flags.changed")
    public static let tenantGreenlistChanged = AuditAction(rawValue: "settings.tenant_greenlist.changed")
    public static let greenlistChanged = AuditAction(rawValue: "greenlist.changed")
    public static let greenlistDeleted = AuditAction(rawValue: "greenlist.deleted")
    public static let apiTokenCreated = AuditAction(rawValue: "api_token.created")
    public static let apiTokenRevoked = AuditAction(rawValue: "api_token.revoked")
    public static let sessionsSignedOut = AuditAction(rawValue: "sessions.signed_out")
    public static let superAdminBootstrapped = AuditAction(rawValue: "admin.bootstrap")
    public static let signingKeyRotated = AuditAction(rawValue: "signing_key.rotated")
    public static let userProvisioned = AuditAction(rawValue: "scim.user.provisioned")
    public static let userDeprovisioned = AuditAction(rawValue: "scim.user.deprovisioned")
    public static let groupProvisioned = AuditAction(rawValue: "scim.group.provisioned")
    public static let groupDeprovisioned = AuditAction(rawValue: "scim.group.deprovisioned")
    public static let apiTokenActedAs = AuditAction(rawValue: "api_token.act_as")
    public static let groupsSynced = AuditAction(rawValue: "user.groups.synced")
    public static let sessionFlagged = AuditAction(rawValue: "session.flagged")
    public static let sessionFlagDismissed = AuditAction(rawValue: "session.flag.dismissed")
    public static let sessionSteppedUp = AuditAction(rawValue: "session.stepped_up")
}

/// Who made a change, from where: what every audited store write is given.
public struct AuditContext: Hashable, Sendable {
    /// The actor's email, or a name such as `cli` or `scim` for non-people.
    public var actor: String
    public var actorIsSuperAdmin: Bool
    public var sourceIP: String?
    public var at: Date

    public init(actor: String, actorIsSuperAdmin: Bool, sourceIP: String?, at: Date) {
        self.actor = actor
        self.actorIsSuperAdmin = actorIsSuperAdmin
        self.sourceIP = sourceIP
        self.at = at
    }
}

/// One administrative change, before it is chained.
public struct AuditEvent: Hashable, Sendable {
    public var context: AuditContext
    public var action: AuditAction
    public var target: String
    public var before: JSONValue?
    public var after: JSONValue?

    public init(_ context: AuditContext, action: AuditAction, target: String, before: JSONValue?, after: JSONValue?) {
        self.context = context
        self.action = action
        self.target = target
        self.before = before
        self.after = after
    }
}

/// One row of the append-only, hash-chained audit log. `hash` covers every other field and the
/// previous row's hash, so an edited, deleted or reordered row breaks the chain.
public struct AuditEntry: Hashable, Sendable, Codable {
    public var sequence: Int64
    public var at: Date
    public var actor: String
    public var actorIsSuperAdmin: Bool
    public var action: AuditAction
    public var target: String
    public var before: JSONValue?
    public var after: JSONValue?
    public var sourceIP: String?
    /// Hex SHA-256 of the previous entry; 64 zeros for the first.
    public var previousHash: String
    public var hash: String

    public init(
        sequence: Int64, at: Date, actor: String, actorIsSuperAdmin: Bool, action: AuditAction, target: String,
        before: JSONValue?, after: JSONValue?, sourceIP: String?, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.actorIsSuperAdmin = actorIsSuperAdmin
        self.action = action
        self.target = target
        self.before = before
        self.after = after
        self.sourceIP = sourceIP
        self.previousHash = previousHash
        self.hash = hash
    }

    public static let genesisHash = String(repeating: "0", count: 64)

    enum CodingKeys: String, CodingKey {
        case sequence, at, actor, action, target, before, after, hash
        case actorIsSuperAdmin = "actor_is_super_admin"
        case sourceIP = "source_ip"
        case previousHash = "previous_hash"
    }

    /// `hash` is left out while it is not known (the hashed body cannot hold its own hash),
    /// never written empty.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(actorIsSuperAdmin, forKey: .actorIsSuperAdmin)
        try container.encode(action, forKey: .action)
        try container.encode(target, forKey: .target)
        try container.encodeIfPresent(before, forKey: .before)
        try container.encodeIfPresent(after, forKey: .after)
        try container.encodeIfPresent(sourceIP, forKey: .sourceIP)
        try container.encode(previousHash, forKey: .previousHash)
        if !hash.isEmpty { try container.encode(hash, forKey: .hash) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            sequence: try container.decode(Int64.self, forKey: .sequence), at: try container.decode(Date.self, forKey: .at),
            actor: try container.decode(String.self, forKey: .actor),
            actorIsSuperAdmin: try container.decode(Bool.self, forKey: .actorIsSuperAdmin),
            action: try container.decode(AuditAction.self, forKey: .action), target: try container.decode(String.self, forKey: .target),
            before: try container.decodeIfPresent(JSONValue.self, forKey: .before),
            after: try container.decodeIfPresent(JSONValue.self, forKey: .after),
            sourceIP: try container.decodeIfPresent(String.self, forKey: .sourceIP),
            previousHash: try container.decode(String.self, forKey: .previousHash),
            hash: try container.decodeIfPresent(String.self, forKey: .hash) ?? ""
        )
    }
}

/// `GET /audit?since=&actor=&action=`.
public struct AuditQuery: Hashable, Sendable {
    public var since: Date?
    public var actor: String?
    public var action: AuditAction?
    public var target: String?
    /// At most this many, newest first.
    public var limit: Int

    public init(since: Date? = nil, actor: String? = nil, action: AuditAction? = nil, target: String? = nil, limit: Int = 500) {
        self.since = since
        self.actor = actor
        self.action = action
        self.target = target
        self.limit = limit
    }
}

/// The answer of `portcullis audit verify`.
public struct AuditVerification: Hashable, Sendable, Codable {
    public var entries: Int
    /// The first sequence number at which the chain breaks; `nil` when it holds.
    public var brokenAt: Int64?
    public var problem: String?

    public init(entries: Int, brokenAt: Int64? = nil, problem: String? = nil) {
        self.entries = entries
        self.brokenAt = brokenAt
        self.problem = problem
    }

    public var isIntact: Bool { brokenAt == nil && problem == nil }

    enum CodingKeys: String, CodingKey {
        case entries, problem
        case brokenAt = "broken_at"
    }
}
