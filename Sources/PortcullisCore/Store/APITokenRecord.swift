#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Whose behalf an API token acts on (SPEC §2).
public enum APITokenScope: String, Hashable, Sendable, Codable, CaseIterable {
    /// Acts as its owner, with the owner's current permissions.
    case user
    /// An organisation-wide token for integrations; creating one needs `api_tokens.create_global`.
    case global
}

/// A Portcullis API token. The secret is shown once at creation and stored only as a hash.
public struct APITokenRecord: Hashable, Sendable {
    public var id: String
    public var ownerID: String
    public var name: String
    public var scope: APITokenScope
    /// The first characters of the secret (`pct_` and six more), to tell tokens apart in lists.
    public var displayPrefix: String
    public var createdAt: Date
    public var createdBy: String
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// How many requests this `global` token made acting as a user (`X-Portcullis-Act-As`).
    public var actAsCount: Int

    public init(
        id: String, ownerID: String, name: String, scope: APITokenScope, displayPrefix: String, createdAt: Date,
        createdBy: String, expiresAt: Date? = nil, lastUsedAt: Date? = nil, revokedAt: Date? = nil, actAsCount: Int = 0
    ) {
        self.id = id
        self.ownerID = ownerID
        self.name = name
        self.scope = scope
        self.displayPrefix = displayPrefix
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.actAsCount = actAsCount
    }

    /// Every API token secret starts with this, so that the gateway (and secret scanners) can
    /// tell it from a JWT.
    public static let secretPrefix = "pct_"
}

/// An API token with its owner, read together on the request path.
public struct APITokenIdentity: Hashable, Sendable {
    public var token: APITokenRecord
    public var owner: UserIdentity

    public init(token: APITokenRecord, owner: UserIdentity) {
        self.token = token
        self.owner = owner
    }
}
