import ArgumentParser
import Foundation
import Logging
import PortcullisConfigFile
import PortcullisControlPlane
import PortcullisCore
import PortcullisGeoIP
import PortcullisStore

/// `portcullis ip-check IP [--route NAME] [--user EMAIL] [--json]`: would this address be let
/// in, by which rule, and where is it? `--proposed FILE`: which active sessions and admins
/// would a proposed tenant-wide greenlist cut off? The same answers, in the same JSON, as the
/// admin API's `/ip-policy/test` and `/ip-policy/dry-run`, from the configuration plus the
/// greenlists and tenant greenlist managed in the store. Exit status 0 when allowed (inside the
/// proposed list), 1 when refused (outside it), 2 on a bad configuration, store or file.
struct IPCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ip-check",
        abstract: "Test an IP address against the greenlists and country rules, and locate it."
    )

    @Argument(help: "The IPv4 or IPv6 address to test.")
    var ip: String

    @OptionGroup var options: ConfigOptions

    @Option(help: "Also check this route's greenlist and country rule.")
    var route: String?

    @Option(help: "Also check the route's requirement for this user, with their roles in the store (needs --route).")
    var user: String?

    @Option(help: ArgumentHelp(
        "Dry-run a proposed tenant greenlist (YAML or JSON: a list of {cidr, label}, or {entries: [...]}): the sessions and admins it would cut off, and whether IP is in it.",
        valueName: "file"
    ))
    var proposed: String?

    @Option(help: "Use this .mmdb file instead of geoip.database from the configuration.")
    var geoipDatabase: String?

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func validate() throws {
        // A user's access is a route's requirement: without the route there is nothing to check
        // their roles against, and answering for the network policy alone would look like a yes.
        if user != nil, route == nil, proposed == nil {
            throw ValidationError("--user needs --route: a user's roles are checked against one route's requirement (--route NAME)")
        }
    }

    func run() async throws {
        let address: IPAddress
        do {
            address = try IPAddress(parsing: ip)
        } catch {
            Console.error("ip-check: \(error.description)")
            throw ExitCode(2)
        }
        // Only the network policy matters here: certificates and secrets are not checked.
        let configuration: GatewayConfiguration
        switch ConfigurationFile.load(path: options.config, environment: .networkOnly) {
        case .success(let loaded): configuration = loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(2)
        }
        if let route, !configuration.routes.contains(where: { $0.name == route }) {
            let names = configuration.routes.map(\.name).joined(separator: ", ")
            Console.error("ip-check: no route named \"\(route)\" in \(options.config); routes: \(names)")
            throw ExitCode(2)
        }
        if proposed != nil, route != nil || user != nil {
            Console.error("ip-check: --proposed dry-runs a tenant-wide list; it takes no --route or --user")
            throw ExitCode(2)
        }
        let opened = try await Self.openStoreIfPresent(configuration)
        do {
            try await answer(address, configuration: configuration, store: opened?.store)
        } catch {
            await opened?.close()
            throw error
        }
        await opened?.close()
    }

    private func answer(_ address: IPAddress, configuration: GatewayConfiguration, store: (any GreenlistSource & SessionStore & IdentityStore & UserLookupStore)?) async throws {
        if let proposed {
            try await dryRun(proposed, from: address, configuration: configuration, store: store)
            return
        }
        var stored = (greenlists: [String: Greenlist](), tenant: String?.none)
        var assumedUser: AuthenticatedUser?
        if let store {
            do {
                stored = (try await store.storedGreenlists(), try await store.tenantGreenlist())
                if let user { assumedUser = try await IPPolicyInquiry.assumedUser(email: user, store: store) }
            } catch {
                Console.error("ip-check: \(error)")
                throw ExitCode(2)
            }
        }
        if let user, assumedUser == nil {
            Console.error(store == nil
                ? "ip-check: --user needs the store, and there is none at \(Self.describe(configuration.store))"
                : "ip-check: no user \(user) in the store")
            throw ExitCode(2)
        }
        let resolver: MaxMindGeoIPResolver
        do {
            let cityPath = geoipDatabase ?? configuration.geoIP.database
            let (opened, notices) = try MaxMindGeoIPResolver.open(cityPath: cityPath, asnPath: configuration.geoIP.asnDatabase)
            for notice in notices { Console.error("note: \(notice.description); locations are unknown") }
            resolver = opened
        } catch {
            Console.error("ip-check: \(error.description)")
            throw ExitCode(2)
        }
        let policy = configuration.accessPolicy(geoIP: resolver, extraGreenlists: stored.greenlists, storedTenantGreenlist: stored.tenant)
        let answer = policy.test(address: address, route: route, user: assumedUser, now: Date())
        if json {
            print(String(decoding: try Self.encoder.encode(answer), as: UTF8.self))
        } else {
            print(Self.describe(answer))
        }
        if !answer.allowed { throw ExitCode(1) }
    }

    /// `--proposed FILE`: the admin API's dry run.
    private func dryRun(_ file: String, from address: IPAddress, configuration: GatewayConfiguration, store: (any GreenlistSource & SessionStore & IdentityStore & UserLookupStore)?) async throws {
        let list: Greenlist
        do {
            list = try ProposedGreenlist.decode(try ConfigurationFile.parse(text: try ConfigurationFile.read(path: file), file: file), file: file).get()
        } catch {
            Console.error("ip-check: \(error)")
            throw ExitCode(2)
        }
        let result: AdminAPIModels.DryRunResult
        do {
            if let store {
                result = try await IPPolicyInquiry.dryRun(
                    list, store: store, idleTimeout: configuration.sessions.idleTimeout, now: Date(), from: address
                )
            } else {
                Console.error("note: no store at \(Self.describe(configuration.store)) yet; no sessions to cut off")
                result = AdminAPIModels.DryRunResult(
                    sessionsCutOff: [], adminsCutOff: [], wouldLockOutSelf: !list.contains(address), yourAddress: address.description
                )
            }
        } catch {
            Console.error("ip-check: \(error)")
            throw ExitCode(2)
        }
        if json {
            print(String(decoding: try Self.encoder.encode(result), as: UTF8.self))
        } else {
            print(Self.describe(result, list: list))
        }
        if result.wouldLockOutSelf { throw ExitCode(1) }
    }

    /// The admin API's JSON, indented for a terminal.
    static var encoder: JSONEncoder {
        let encoder = IPPolicyInquiry.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        return encoder
    }

    /// The configured store, unless it is an SQLite file that does not exist yet: then nothing
    /// was ever stored and the configuration alone answers. Never creates a store.
    static func openStoreIfPresent(_ configuration: GatewayConfiguration) async throws -> OpenedStore? {
        if case .sqlite(let path) = configuration.store, !FileManager.default.fileExists(atPath: path) { return nil }
        try StoreOpener.requireOwnership(of: configuration.store, command: "ip-check", mayMake: false)
        var logger = Logger(label: "portcullis.cli")
        logger.logLevel = .warning
        do {
            return try await StoreOpener.open(configuration, logger: logger)
        } catch {
            Console.error("ip-check: \(error)")
            throw ExitCode(2)
        }
    }

    static func describe(_ store: StoreConfiguration) -> String {
        switch store {
        case .sqlite(let path): path
        case .postgres(let source, _, _): "store.postgres (\(source))"
        }
    }

    static func describe(_ result: AdminAPIModels.DryRunResult, list: Greenlist) -> String {
        let size = list.entries.count == 1 ? "1 entry" : "\(list.entries.count) entries"
        var lines = ["\(result.yourAddress) is \(result.wouldLockOutSelf ? "OUTSIDE" : "inside") the proposed list (\(size))"]
        if result.sessionsCutOff.isEmpty {
            lines.append("  no active session would be cut off")
        } else {
            lines.append("  \(result.sessionsCutOff.count) active session(s) would be cut off:")
            for session in result.sessionsCutOff {
                let place = [session.location.city, session.location.country].compactMap { $0 }.joined(separator: ", ")
                lines.append("    \(session.email)  session \(session.session)  from \(session.ip)\(place.isEmpty ? "" : " (\(place))")")
            }
        }
        lines.append(result.adminsCutOff.isEmpty
            ? "  no admin would be cut off"
            : "  admins cut off (no session from inside the list): \(result.adminsCutOff.joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }

    static func describe(_ answer: IPPolicyTest) -> String {
        var lines: [String] = []
        let verdict = answer.allowed ? "allowed" : "refused (\(answer.reason?.rawValue ?? "unknown"))"
        lines.append("\(answer.ip): \(verdict)" + (answer.route.map { " on route \($0)" } ?? ""))
        if answer.checks.isEmpty {
            lines.append("  no tenant greenlist is set; every address passes the network policy")
        }
        for check in answer.checks {
            lines.append("  \(check.passed ? "pass" : "FAIL") \(check.kind.rawValue) \(check.rule): \(check.detail)")
        }
        let location = answer.location
        var place = answer.place
        if let code = location.countryCode { place += " (\(code))" }
        if let asn = location.asn { place += ", AS\(asn)" + (location.organization.map { " \($0)" } ?? "") }
        lines.append("  location: \(place)")
        return lines.joined(separator: "\n")
    }
}
