/// The four primary roles, in precedence order. Every known user has exactly one effective
/// primary role; a user with no assignment is a ``member``.
public enum PrimaryRole: String, CaseIterable, Sendable, Hashable, Codable {
    case member
    case setupAdmin = "setup_admin"
    case admin
    case superAdmin = "super_admin"

    /// Higher wins when sources are merged: super_admin > admin > setup_admin > member.
    public var precedence: Int {
        switch self {
        case .member: 0
        case .setupAdmin: 1
        case .admin: 2
        case .superAdmin: 3
        }
    }

    /// The role a user holds when nothing assigns one.
    public static let `default`: PrimaryRole = .member

    /// A human label, as on the teammates page.
    public var displayName: String {
        switch self {
        case .member: "Member"
        case .setupAdmin: "Setup Admin"
        case .admin: "Admin"
        case .superAdmin: "Super Admin"
        }
    }
}

extension PrimaryRole: Comparable {
    public static func < (lhs: PrimaryRole, rhs: PrimaryRole) -> Bool {
        lhs.precedence < rhs.precedence
    }
}
