import ArgumentParser
import Foundation
import PortcullisConfigFile
import PortcullisCore

/// `portcullis idp-registration`: what to register at the identity provider, from the
/// configuration (issue 28 item 2).
struct IdPRegistrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idp-registration",
        abstract: "Print what to register at the identity provider: redirect, post-logout and back-channel logout URIs, scopes, claims, SCIM.",
        discussion: "Providers with steps of their own: \(IdPRegistration.Provider.allCases.map(\.rawValue).joined(separator: ", "))."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "generic, entra, okta, google or keycloak.")
    var provider: String = IdPRegistration.Provider.generic.rawValue

    @Flag(name: .long, help: "The values as one JSON object (no provider steps).")
    var json = false

    func run() async throws {
        guard let provider = IdPRegistration.Provider(rawValue: provider.lowercased()) else {
            Console.error("--provider \(provider): expected one of \(IdPRegistration.Provider.allCases.map(\.rawValue).joined(separator: ", "))")
            throw ExitCode(64)
        }
        let configuration = try options.load()
        guard let registration = IdPRegistration(configuration) else {
            Console.error("\(options.config): identity.oidc is not configured: there is no identity provider to register at")
            throw ExitCode(2)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(registration), as: UTF8.self))
        } else {
            print(registration.text(for: provider), terminator: "")
        }
    }
}
