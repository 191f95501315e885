import ArgumentParser
import Foundation
import PortcullisCore

/// `portcullis groups list` and `portcullis groups map NAME --source scim|oidc`: the console's
/// group-to-role mappings, from the host. A mapping is for one source of membership (SCIM's
/// members of the group, or users whose groups claim names it), never "any group with that name".
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List groups and their role mappings, or set a group's mapping for one source of membership.",
        subcommands: [List.self, Map.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every group: its members through each source and its role mappings, each with the source it is for."
        )

        @Flag(help: "Print JSON lines.")
        var json = false

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "groups list")) { _, store in
                for summary in try await store.groups() {
                    Console.out(json ? try GroupsCommand.jsonLine(summary) : GroupsCommand.textLine(summary))
                }
            }
        }
    }

    struct Map: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the roles GROUP gives its members through one source; no roles removes that mapping. Audited.",
            discussion: """
                --source scim: the members the identity provider provisions over SCIM; --source oidc: users \
                whose groups claim names the group. The other source's members of a group of the same name \
                get nothing from the mapping. The host acts with a super admin's authority (it can make one \
                with admin bootstrap --force), but a change that leaves a role with no person holding it is \
                refused, as in the console.
                """
        )

        enum Source: String, ExpressibleByArgument, CaseIterable {
            case scim
            case oidc
        }

        @Argument(help: "The group's name.")
        var group: String

        @Option(help: "Which members the mapping is for: scim or oidc (the groups claim of sign-ins).")
        var source: Source

        @Option(help: "The primary role (member, setup_admin, admin, super_admin).")
        var primary: String?

        @Option(help: "An additional role; repeat for more.")
        var secondary: [String] = []

        @OptionGroup var options: ConfigOptions

        func validate() throws {
            guard !group.isEmpty, group.count <= 256 else { throw ValidationError("the group name must be 1 to 256 characters") }
            if let primary, PrimaryRole(rawValue: primary) == nil {
                throw ValidationError("--primary must be one of \(PrimaryRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let unknown = secondary.first(where: { SecondaryRole(rawValue: $0) == nil }) {
                throw ValidationError("--secondary \(unknown) is not a role: \(SecondaryRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            try await StoreOpener.withStore(options.config, ifAbsent: .refuse(command: "groups map")) { configuration, store in
                store.countGroupMemberships(from: configuration.identity.groupSource)
                try await map(store)
            }
        }

        func map(_ store: any GatewayStore) async throws {
            let source = source == .scim ? GroupSource.scim : GroupSource.oidc
            let desired = RoleAssignment(
                primary: primary.flatMap(PrimaryRole.init(rawValue:)), secondary: Set(secondary.compactMap(SecondaryRole.init(rawValue:)))
            )
            let role = EffectiveRole.resolve(direct: RoleAssignment(primary: .superAdmin), groups: [])
            let actor = RoleChangePolicy.Actor(email: StoreOpener.cliActor, role: role, permissions: role.permissions(defaults: .allOn))
            let audit = AuditContext(actor: StoreOpener.cliActor, actorIsSuperAdmin: true, sourceIP: nil, at: Date())
            let name = group
            let result = try await store.changeGroupRoles(name: name, source: source, audit: audit) { state in
                RoleChangePolicy.changeGroupMapping(
                    actor: actor, group: name, source: source, mappings: state.group?.mappings ?? [:], desired: desired,
                    mappedGroupCount: state.mappedGroupCount, holders: state.holders
                )
            }
            switch result {
            case nil:
                Console.out("\(name) has no \(source.wording) mapping; nothing to remove")
            case .failure(let refusal)?:
                Console.error("groups map: refused (\(refusal.code.rawValue)): \(refusal.message)")
                throw ExitCode(1)
            case .success?:
                if let summary = try await store.group(named: name) {
                    Console.out(GroupsCommand.textLine(summary))
                }
            }
        }
    }

    /// `Admins  members 3 (SCIM 3, sign-in claims 0)  SCIM: admin; sign-in claims: answers_moderator [review]`.
    static func textLine(_ summary: GroupSummary) -> String {
        let group = summary.group
        let members = "members \(summary.memberCount) (SCIM \(summary.membersBySource[.scim] ?? 0), "
            + "sign-in claims \(summary.membersBySource[.oidc] ?? 0))"
        let mappings = group.mappings.sorted { $0.key > $1.key }.map { source, roles in
            "\(source.wording): \(roleList(roles))" + (group.mappingsToReview.contains(source) ? " [review: choose the source]" : "")
        }
        return "\(group.name)  \(members)  " + (mappings.isEmpty ? "no mapping" : mappings.joined(separator: "; "))
    }

    static func jsonLine(_ summary: GroupSummary) throws -> String {
        let group = summary.group
        let line: [String: JSONValue] = [
            "name": .string(group.name),
            "provisioned": .bool(group.provisioned),
            "members": .number(Double(summary.memberCount)),
            "members_by_source": .object(Dictionary(uniqueKeysWithValues: GroupSource.allCases.map {
                ($0.rawValue, JSONValue.number(Double(summary.membersBySource[$0] ?? 0)))
            })),
            "mappings": .array(group.mappings.sorted { $0.key > $1.key }.map { source, roles in
                .object([
                    "source": .string(source.rawValue),
                    "primary": roles.primary.map { .string($0.rawValue) } ?? .null,
                    "secondary": .array(roles.secondary.map(\.rawValue).sorted().map(JSONValue.string)),
                    "review": .bool(group.mappingsToReview.contains(source)),
                ])
            }),
        ]
        return String(decoding: try JSONEncoder.sorted.encode(line), as: UTF8.self)
    }

    static func roleList(_ roles: RoleAssignment) -> String {
        let names = (roles.primary.map { [$0.rawValue] } ?? []) + roles.secondary.map(\.rawValue).sorted()
        return names.isEmpty ? "no roles" : names.joined(separator: ", ")
    }
}
