import ArgumentParser
import Foundation
import PortcullisCore

/// `portcullis admin bootstrap --super-admin EMAIL [--force]`: the first super admin, made on
/// the host, out of band (SPEC §1.4).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administrative tasks done on the host.",
        subcommands: [Bootstrap.self]
    )

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make EMAIL a super admin. Refused once a super admin exists, unless --force (audited)."
        )

        @Option(name: .customLong("super-admin"), help: "The email of the first super admin.")
        var superAdmin: String

        @Flag(help: "Make another super admin even though one exists. Audited.")
        var force = false

        @OptionGroup var options: ConfigOptions

        func validate() throws {
            let email = superAdmin.trimmingCharacters(in: .whitespaces)
            guard email.count <= 254, email.filter({ $0 == "@" }).count == 1, !email.hasPrefix("@"), !email.hasSuffix("@"),
                  !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
                throw ValidationError("--super-admin must be an email address, like admin@example.com")
            }
        }

        func run() async throws {
            // The first step on a new host: the store may not exist yet, and is made.
            try await StoreOpener.withStore(options.config, ifAbsent: .create(command: "admin bootstrap")) { _, store in try await bootstrap(store) }
        }

        func bootstrap(_ store: any AdministrationStore) async throws {
            let email = superAdmin.trimmingCharacters(in: .whitespaces)
            let now = Date()
            let existing = try await store.roleHolders().holders(of: .primary(.superAdmin)).map(\.description).sorted()
            let user = try await store.ensureUser(email: email, at: now)
            let audit = AuditContext(actor: StoreOpener.cliActor, actorIsSuperAdmin: false, sourceIP: nil, at: now)
            guard try await store.bootstrapSuperAdmin(userID: user.id, force: force, audit: audit) else {
                Console.error("""
                    admin bootstrap: refused: a super admin already exists (\(existing.joined(separator: ", "))).
                    Super admins assign roles through the admin API; --force makes another one anyway, and is audited.
                    """)
                throw ExitCode(1)
            }
            Console.out("\(user.email) is a super admin" + (existing.isEmpty ? "" : " (forced; existing: \(existing.joined(separator: ", ")))"))
        }
    }
}
