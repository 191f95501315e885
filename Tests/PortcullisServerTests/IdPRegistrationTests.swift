import Foundation
import NIOHTTP1
import PortcullisConfigFile
import PortcullisCore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// `portcullis idp-registration` (issue 28 item 2): what it prints is what the running gateway
/// uses and serves, read from the same configuration file.
@Suite("What to register at the identity provider")
struct IdPRegistrationTests {
    @Test("the printed redirect URI is the one the gateway sends to the provider; the post-logout, back-channel logout and SCIM URIs are served")
    func printedURIsAreServed() async throws {
        let harness = try await SSOHarness.start(scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let configuration = try ConfigurationFile.load(path: harness.configurationPath, environment: .system).get()
        let registration = try #require(IdPRegistration(configuration))
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }

        let login = try await browser.request(harness.url("/_portcullis/login?rd=/"))
        let authorize = try #require(login.location.flatMap(URLComponents.init(string:)), "\(login.status) \(login.headers)")
        #expect(authorize.queryItems?.first { $0.name == "redirect_uri" }?.value == registration.redirectURI)
        #expect(authorize.queryItems?.first { $0.name == "client_id" }?.value == registration.clientID)
        #expect(authorize.queryItems?.first { $0.name == "scope" }?.value == registration.scopes.joined(separator: " "))
        #expect(authorize.queryItems?.first { $0.name == "code_challenge_method" }?.value == "S256")

        #expect(try await browser.request(registration.postLogoutRedirectURI).status == .ok)
        // No logout token: refused as a bad request by the endpoint, not "not found".
        let backchannel = try await browser.request(registration.backchannelLogoutURI, method: .POST, form: [:])
        #expect(backchannel.status == .badRequest, "\(backchannel.status) \(backchannel.body)")
        let scim = try #require(registration.scimBaseURL)
        let config = try await browser.request(scim + "/ServiceProviderConfig", headers: [("Authorization", "Bearer \(SCIMTests.token)")])
        #expect(config.status == .ok, "\(config.status) \(config.body)")
        // The token is named by where it is kept, never printed.
        let text = registration.text(for: .generic)
        #expect(text.contains("SCIM bearer token") && !text.contains(SCIMTests.token), "\(text)")
    }

    @Test("the binary prints the values and each provider's steps; --json the values; an unknown provider or no identity.oidc is refused")
    func commandLine() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let configuration = try ConfigurationFile.load(path: harness.configurationPath, environment: .system).get()
        let registration = try #require(IdPRegistration(configuration))
        let titles = ["generic": "Generic OpenID Connect", "entra": "Microsoft Entra ID", "okta": "Okta", "google": "Google", "keycloak": "Keycloak"]
        for provider in IdPRegistration.Provider.allCases {
            let run = try await OperatorCommandLineTests.portcullis(["idp-registration", "--config", harness.configurationPath, "--provider", provider.rawValue])
            #expect(run.status == 0, "\(provider): \(run.error)")
            for value in [registration.redirectURI, registration.issuer, registration.clientID] {
                #expect(run.output.contains(value), "\(provider) does not print \(value)")
            }
            #expect(run.output.contains(titles[provider.rawValue] ?? "?"), "\(provider): \(run.output)")
        }
        let json = try await OperatorCommandLineTests.portcullis(["idp-registration", "--config", harness.configurationPath, "--json"])
        #expect(json.status == 0, "\(json.error)")
        #expect(try JSONDecoder().decode(IdPRegistration.self, from: Data(json.output.utf8)) == registration)

        let unknown = try await OperatorCommandLineTests.portcullis(["idp-registration", "--config", harness.configurationPath, "--provider", "azure"])
        #expect(unknown.status == 64)
        #expect(unknown.error.contains("generic, entra, okta, google, keycloak"), "\(unknown.error)")

        let withoutOIDC = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-no-oidc-\(UUID().uuidString).yaml").path
        let text = try String(contentsOfFile: harness.configurationPath, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: withoutOIDC) }
        guard let start = text.range(of: "identity:\n") else {
            Issue.record("the harness's configuration has no identity section: \(text)")
            return
        }
        // The identity section's indented lines go with it.
        var kept = String(text[..<start.lowerBound])
        var skipping = true
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if skipping, line.hasPrefix(" ") || line.isEmpty { continue }
            skipping = false
            kept += line + "\n"
        }
        try kept.write(toFile: withoutOIDC, atomically: true, encoding: .utf8)
        let none = try await OperatorCommandLineTests.portcullis(["idp-registration", "--config", withoutOIDC])
        #expect(none.status == 2, "\(none.output) \(none.error)")
    }
}
}
