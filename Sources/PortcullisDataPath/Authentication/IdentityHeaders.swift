import PortcullisCore

/// The identity headers the upstream receives for a signed-in user (SPEC §5).
package enum IdentityHeaders {
    package static let user = "X-Portcullis-User"
    package static let email = "X-Portcullis-Email"
    package static let role = "X-Portcullis-Role"
    package static let roles = "X-Portcullis-Roles"
    package static let assertion = "X-Portcullis-Assertion"

    /// Header values never carry control characters, whatever the IdP sent.
    package static func clean(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(1_024))
    }

    package static func basic(for user: AuthenticatedUser) -> [(String, String)] {
        var roles = [user.role.primary.rawValue]
        roles += user.role.secondary.map(\.rawValue).sorted()
        return [
            (Self.user, clean(user.userID)),
            (Self.email, clean(user.email)),
            (Self.role, user.role.primary.rawValue),
            (Self.roles, roles.joined(separator: ",")),
        ]
    }
}
