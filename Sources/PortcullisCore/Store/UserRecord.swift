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
        externalID: String? = nil
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
    }
}

/// An IdP group, with the roles mapped to it.
public struct GroupRecord: Hashable, Sendable {
    public var id: String
    public var name: String
    public var displayName: String?
    public var externalID: String?
    /// `nil` when the group carries no role mapping.
    public var roles: RoleAssignment?

    public init(id: String, name: String, displayName: String? = nil, externalID: String? = nil, roles: RoleAssignment? = nil) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.externalID = externalID
        self.roles = roles
    }

    public var mapping: GroupRoleMapping {
        GroupRoleMapping(group: name, assignment: roles ?? .none)
    }
}

/// What an SSO login tells us about a user: from the ID token's claims.
public struct LoginProfile: Hashable, Sendable {
    public var subject: String
    public var email: String
    public var name: String?
    public var department: String?
    /// Group names from the configured groups claim; they replace the user's memberships.
    public var groups: [String]

    public init(subject: String, email: String, name: String? = nil, department: String? = nil, groups: [String] = []) {
        self.subject = subject
        self.email = email
        self.name = name
        self.department = department
        self.groups = groups
    }
}
