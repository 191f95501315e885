#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A person the gateway knows: from an SSO login, SCIM or the bootstrap command.
public struct UserRecord: Hashable, Sendable {
    public var id: String
    public var email: String
    /// The IdP's `sub`.
    public var subject: String?
    public var name: String?
    public var department: String?
    /// Deactivated users (SCIM `active: false`) cannot sign in or use tokens.
    public var active: Bool
    public var directRoles: RoleAssignment
    public var createdAt: Date
    public var lastLoginAt: Date?
    public var lastSeenAt: Date?
    /// Sessions and bearer tokens issued before this instant are refused ("sign out of all").
    public var notBefore: Date?
    /// SCIM `externalId`.
    public var externalID: String?
    /// The attributes the IdP provisioned over SCIM, as it sent them (canonical names); `nil`
    /// for users SCIM never wrote.
    public var scimDocument: [String: JSONValue]?
    /// Bumped by every SCIM write: SCIM's `meta.version` and ETag.
    public var version: Int
    /// The last SCIM write, or the creation.
    public var updatedAt: Date?

    public init(
        id: String,
        email: String,
        subject: String? = nil,
        name: String? = nil,
        department: String? = nil,
        active: Bool = true,
        directRoles: RoleAssignment = .none,
        createdAt: Date,
        lastLoginAt: Date? = nil,
        lastSeenAt: Date? = nil,
        notBefore: Date? = nil,
        externalID: String? = nil,
        scimDocument: [String: JSONValue]? = nil,
        version: Int = 1,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.subject = subject
        self.name = name
        self.department = department
        self.active = active
        self.directRoles = directRoles
        self.createdAt = createdAt
        self.lastLoginAt = lastLoginAt
        self.lastSeenAt = lastSeenAt
        self.notBefore = notBefore
        self.externalID = externalID
        self.scimDocument = scimDocument
        self.version = version
        self.updatedAt = updatedAt
    }
}

/// Where a group membership comes from (SPEC §2): the groups claim of sign-ins and refreshes,
/// or SCIM. Each source replaces only its own memberships.
public enum GroupSource: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case oidc
    case scim

    public static func < (a: GroupSource, b: GroupSource) -> Bool { a.rawValue < b.rawValue }

    /// In words, for messages and the console: `SCIM`, `sign-in claims`.
    public var wording: String {
        switch self {
        case .oidc: "sign-in claims"
        case .scim: "SCIM"
        }
    }
}

/// `identity.groups.source`: which memberships count for effective roles.
public enum GroupSourcePolicy: String, Hashable, Sendable, CaseIterable {
    /// Only the groups claim (sign-in, refresh, sync now).
    case claims
    /// Only SCIM; sign-ins leave memberships alone.
    case scim
    /// Both, each replacing only its own (the default).
    case both

    public var counted: Set<GroupSource> {
        switch self {
        case .claims: [.oidc]
        case .scim: [.scim]
        case .both: [.oidc, .scim]
        }
    }
}

/// An IdP group, with the roles mapped to it for each source of membership.
public struct GroupRecord: Hashable, Sendable {
    public var id: String
    public var name: String
    public var displayName: String?
    public var externalID: String?
    /// The role mappings, by the source of membership each is for: a mapping for `scim` counts
    /// only for SCIM's members of the group, one for `oidc` only for those whose groups claim
    /// names it. Empty when the group carries no mapping.
    public var mappings: [GroupSource: RoleAssignment]
    /// Mappings the v6 migration kept for both sources because it could not tell which one
    /// they were made for: an admin should choose (any change to the group's mappings clears
    /// the mark).
    public var mappingsToReview: Set<GroupSource>
    /// Shown to admins (SCIM `description`).
    public var description: String?
    /// Created or adopted by SCIM (SCIM lists only these).
    public var provisioned: Bool
    /// Bumped by every SCIM write: SCIM's `meta.version` and ETag.
    public var version: Int
    public var createdAt: Date?
    public var updatedAt: Date?
    /// When read as one of a user's groups: the sources of that membership.
    public var sources: Set<GroupSource>

    public init(
        id: String, name: String, displayName: String? = nil, externalID: String? = nil,
        mappings: [GroupSource: RoleAssignment] = [:], mappingsToReview: Set<GroupSource> = [],
        description: String? = nil, provisioned: Bool = false, version: Int = 1, createdAt: Date? = nil, updatedAt: Date? = nil,
        sources: Set<GroupSource> = []
    ) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.externalID = externalID
        self.mappings = mappings
        self.mappingsToReview = mappingsToReview
        self.description = description
        self.provisioned = provisioned
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sources = sources
    }

    /// The group carries a role mapping for at least one source.
    public var isMapped: Bool { !mappings.isEmpty }

    /// Its mappings, by source, for ``EffectiveRole/resolve(direct:memberships:mappings:flags:)``.
    public var roleMappings: [GroupRoleMapping] {
        mappings.sorted { $0.key < $1.key }.map { GroupRoleMapping(group: name, source: $0.key, assignment: $0.value) }
    }

    /// When read as one of a user's groups: the user's memberships of it, one per source.
    public var memberships: [GroupMembership] {
        sources.sorted().map { GroupMembership(group: name, source: $0) }
    }
}

/// What an SSO login tells us about a user: the ID token's claims merged with UserInfo.
public struct LoginProfile: Hashable, Sendable {
    public var subject: String
    public var email: String
    /// The provider says the email is verified (`email_verified`), or the issuer is trusted for
    /// email (`identity.oidc.trust_email`). Only a verified email links to an existing user.
    public var emailVerified: Bool
    public var name: String?
    public var department: String?
    /// Group names from the configured groups claim: they replace the user's `oidc`
    /// memberships. `nil` when the claim is absent or not used: memberships stay as they are.
    public var groups: [String]?

    public init(
        subject: String, email: String, emailVerified: Bool = true, name: String? = nil, department: String? = nil, groups: [String]? = []
    ) {
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.department = department
        self.groups = groups
    }
}

/// Why a sign-in was refused by the directory (SPEC §2, account linking).
public struct LoginRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The login carries no usable email.
        case emailMissing = "email_missing"
        /// The provider did not say the email is verified, and the issuer is not trusted for email.
        case emailUnverified = "email_unverified"
        /// A non-ASCII address that folds onto an existing account's address.
        case emailLookalike = "email_lookalike"
        /// The email belongs to an account linked to another identity at the provider.
        case accountConflict = "account_conflict"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
