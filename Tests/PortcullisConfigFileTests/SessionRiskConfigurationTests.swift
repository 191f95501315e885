import Foundation
import PortcullisConfigFile
import PortcullisCore
import Testing

/// `sessions.risk`, in the minimal valid document of the configuration tests.
private func document(risk: String) -> String {
    """
    server:
      listen: "127.0.0.1:8443"
      public_url: "https://localhost:8443"
      tls:
        certificates:
          - { cert_file: server.pem, key_file: server-key.pem }
    identity:
      oidc:
        issuer: "https://idp.example.com"
        client_id: portcullis
        client_secret_env: OIDC_SECRET
    sessions:
      risk:
    \(risk.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
    routes:
      - name: app
        path: /
        upstream: "http://127.0.0.1:8080"
        require: authenticated
    """
}

private func decode(_ yaml: String, environment: ConfigEnvironment) -> Result<GatewayConfiguration, ConfigurationError> {
    do {
        let root = try ConfigurationFile.parse(text: yaml, file: "conf/risk.yaml")
        return GatewayConfiguration.decode(root, file: "conf/risk.yaml", environment: environment)
    } catch {
        return .failure(error)
    }
}

private let everythingExists = ConfigEnvironment(fileExists: { _ in true }, variable: { _ in "secret" })

private func risk(_ yaml: String) throws -> SessionRiskConfiguration {
    try decode(document(risk: yaml), environment: everythingExists).get().sessions.risk
}

private func problems(_ yaml: String, environment: ConfigEnvironment = everythingExists) -> [ConfigProblem] {
    if case .failure(let error) = decode(document(risk: yaml), environment: environment) { return error.problems }
    return []
}

@Suite("Configuration: sessions.risk")
struct SessionRiskConfigurationTests {
    @Test("defaults: on, 90 days, 900 km/h, flag everything, no webhook")
    func defaults() throws {
        let configuration = SessionConfiguration()
        #expect(configuration.risk.enabled)
        #expect(configuration.risk.policy.historyWindow == .seconds(90 * 86_400))
        #expect(configuration.risk.policy.maxSpeedKmh == 900)
        #expect(SessionRiskKind.allCases.allSatisfy { configuration.risk.policy.action(for: $0) == .flag })
        #expect(configuration.risk.webhook == nil)
        #expect(try risk("history: 90d") == SessionRiskConfiguration())
    }

    @Test("every key decodes into typed values")
    func everyKey() throws {
        let decoded = try risk("""
            history: 30d
            max_speed_kmh: 1200
            action:
              new_country: step_up
              impossible_travel: deny
              network_jump: step_up
              new_device: flag
            webhook:
              url: "https://alerts.example.com/portcullis?team=sec"
              secret_env: RISK_WEBHOOK_SECRET
            """)
        #expect(decoded.policy.historyWindow == .seconds(30 * 86_400))
        #expect(decoded.policy.maxSpeedKmh == 1_200)
        #expect(decoded.policy.actions == [.newCountry: .stepUp, .impossibleTravel: .deny, .networkJump: .stepUp, .newDevice: .flag])
        #expect(decoded.webhook == SessionRiskWebhook(url: "https://alerts.example.com/portcullis?team=sec", secret: .environment("RISK_WEBHOOK_SECRET")))
        let withFile = try risk("webhook: { url: \"http://127.0.0.1:9000/hook\", secret_file: hook.secret }")
        #expect(withFile.webhook?.secret == .file("conf/hook.secret"), "relative to the configuration file")
        #expect(try risk("enabled: false").enabled == false)
    }

    @Test("problems name the file, the key path and what was expected", arguments: [
        ("history: forever", "sessions.risk.history", "duration"),
        ("history: 5m", "sessions.risk.history", "1h"),
        ("max_speed_kmh: fast", "sessions.risk.max_speed_kmh", "a whole number from 10 to 100000"),
        ("max_speed_kmh: 0", "sessions.risk.max_speed_kmh", "10"),
        ("action: { new_country: block }", "sessions.risk.action.new_country", "flag, step_up, deny"),
        ("action: { new_city: flag }", "sessions.risk.action.new_city", "unknown key"),
        ("action: deny", "sessions.risk.action", "mapping"),
        ("colour: red", "sessions.risk.colour", "unknown key"),
        ("webhook: { secret_env: S }", "sessions.risk.webhook", "url"),
        ("webhook: { url: \"https://a.example\" }", "sessions.risk.webhook", "secret_file or secret_env"),
        ("webhook: { url: \"http://alerts.example.com/\", secret_env: S }", "sessions.risk.webhook.url", "plain http"),
        ("webhook: { url: \"https://user:pw@alerts.example.com/\", secret_env: S }", "sessions.risk.webhook.url", "https://"),
        ("webhook: { url: \"https://alerts.example.com/#x\", secret_env: S }", "sessions.risk.webhook.url", "fragment"),
        ("webhook: { url: \"https://a.example\", secret_env: S, secret_file: f }", "sessions.risk.webhook", "not both"),
    ])
    func problemsAreNamed(yaml: String, path: String, fragment: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.path == path && $0.message.contains(fragment) }, "\(found.map(\.description))")
        for problem in found {
            #expect(problem.description.hasPrefix("conf/risk.yaml:"), "\(problem)")
        }
    }

    @Test("an unset secret variable is reported where it is named")
    func unsetSecret() {
        let environment = ConfigEnvironment(fileExists: { _ in true }, variable: { $0 == "OIDC_SECRET" ? "x" : nil })
        let found = problems("webhook: { url: \"https://a.example/hook\", secret_env: RISK_SECRET }", environment: environment)
        #expect(found.contains { $0.path == "sessions.risk.webhook.secret_env" && $0.message.contains("RISK_SECRET") }, "\(found)")
    }

    @Test("several problems in sessions.risk are all reported")
    func allProblems() {
        let found = problems("""
            history: never
            max_speed_kmh: -5
            action: { new_country: maybe, network_jump: nope }
            """)
        #expect(Set(found.map(\.path)) == [
            "sessions.risk.history", "sessions.risk.max_speed_kmh", "sessions.risk.action.new_country", "sessions.risk.action.network_jump",
        ], "\(found.map(\.description))")
    }
}
