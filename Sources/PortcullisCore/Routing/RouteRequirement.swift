/// What a route asks of the requester.
public enum RouteRequirement: Hashable, Sendable, CustomStringConvertible {
    /// Anyone, signed in or not (the greenlist and country rules still apply).
    case `public`
    /// Any signed-in user.
    case authenticated
    case permission(Permission)
    /// A primary role at least this high, or this secondary role.
    case role(RoleName)

    public var description: String {
        switch self {
        case .public: "public"
        case .authenticated: "authenticated"
        case .permission(let permission): "permission \(permission.rawValue)"
        case .role(let role): "role \(role)"
        }
    }
}
