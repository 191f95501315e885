import ArgumentParser
import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisGeoIP

/// `portcullis ip-check IP [--route NAME] [--json]`: would this address be let in, by which
/// rule, and where is it? Exit status 0 when allowed, 1 when refused, 2 on a bad configuration.
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

    @Option(help: "Use this .mmdb file instead of geoip.database from the configuration.")
    var geoipDatabase: String?

    @Flag(help: "Print the answer as JSON.")
    var json = false

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
        let policy = configuration.accessPolicy(geoIP: resolver)
        let answer = policy.test(address: address, route: route, now: Date())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(answer), as: UTF8.self))
        } else {
            print(Self.describe(answer))
        }
        if !answer.allowed { throw ExitCode(1) }
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
