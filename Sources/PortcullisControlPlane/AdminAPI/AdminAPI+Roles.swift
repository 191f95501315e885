import Hummingbird
import PortcullisCore

extension AdminAPI {
    /// `GET /roles`: every role with its label and one line on what it grants, derived from the
    /// permission matrix. The console names and explains roles from this answer, never from a
    /// list of its own. Anyone signed in may read it: it describes the product, not the tenant.
    @Sendable func roles(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        Self.json(AdminAPIModels.RoleCatalogue(
            primary: PrimaryRole.allCases.map { role in
                AdminAPIModels.RoleDescription(role: role.rawValue, label: role.displayName, description: RoleSummary.line(for: role))
            },
            secondary: SecondaryRole.allCases.map { role in
                AdminAPIModels.RoleDescription(role: role.rawValue, label: role.displayName, description: RoleSummary.line(for: role))
            }
        ))
    }
}

extension AdminAPIModels {
    struct RoleDescription: Encodable, Sendable {
        var role: String
        var label: String
        var description: String
    }

    /// Primary roles lowest first (the order the role editor lists them), then secondary roles.
    struct RoleCatalogue: Encodable, Sendable {
        var primary: [RoleDescription]
        var secondary: [RoleDescription]
    }
}
