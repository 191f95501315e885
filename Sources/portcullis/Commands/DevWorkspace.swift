import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisTokens
import PortcullisDevelopment

/// Where `dev` finds its files: the checkout's `conf/` and `certs/dev/` when run from one;
/// otherwise a temporary folder holding the embedded defaults. Either way the store lives in a
/// temporary folder, and the configuration dev runs on is written beside the source one (so
/// that its relative paths still hold) for the command line to use as well.
struct DevWorkspace {
    /// The configuration as written by people: `conf/portcullis.yaml`.
    let configPath: String
    let usersPath: String
    let certificatesFolder: String
    let temporaryFolder: String

    /// What dev runs on, and what `--config` the CLI should be given while it runs.
    var runConfigPath: String {
        let folder = (configPath as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "" : folder + "/") + "portcullis-dev.yaml"
    }

    /// The throw-away SQLite store.
    var storePath: String { temporaryFolder + "/portcullis.sqlite" }

    /// Development differs from the file in two ways: the store is throw-away, and there is no
    /// HSTS (one year of HSTS for `localhost` would pin every other local app to HTTPS).
    var overrides: [ConfigurationOverride] {
        [
            ConfigurationOverride(["store"], .mapping([("sqlite", .mapping([("path", .scalar(storePath))]))])),
            ConfigurationOverride(["server", "tls", "hsts_max_age"], .scalar("0s")),
        ]
    }

    static func prepare() throws -> DevWorkspace {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-dev-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: "conf/portcullis.yaml"), FileManager.default.fileExists(atPath: "conf/dev-users.yaml") {
            try DevelopmentCertificateFiles.write(to: "certs/dev")
            return DevWorkspace(configPath: "conf/portcullis.yaml", usersPath: "conf/dev-users.yaml", certificatesFolder: "certs/dev", temporaryFolder: temporary)
        }
        // Not a checkout: lay out the embedded defaults, with a fresh client secret.
        let conf = temporary + "/conf"
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        try Data(DevDefaults.gatewayConfiguration.utf8).write(to: URL(fileURLWithPath: conf + "/portcullis.yaml"))
        try Data(DevDefaults.developmentUsers.utf8).write(to: URL(fileURLWithPath: conf + "/dev-users.yaml"))
        try DevelopmentCertificateFiles.write(to: temporary + "/certs/dev")
        return DevWorkspace(
            configPath: conf + "/portcullis.yaml", usersPath: conf + "/dev-users.yaml",
            certificatesFolder: temporary + "/certs/dev", temporaryFolder: temporary
        )
    }

    /// Writes ``runConfigPath`` from ``configPath`` with the development overrides and loads
    /// it: at start and on every reload (SIGHUP), so edits to the source file apply too.
    func writeRunConfiguration() -> Result<GatewayConfiguration, ConfigurationError> {
        do throws(ConfigurationError) {
            let source = try ConfigurationFile.read(path: configPath)
            let text = try ConfigurationFile.applying(overrides, to: source, file: configPath)
            let header = """
                # Written by `portcullis dev` from \(configPath), and deleted when it stops: the same
                # configuration with its throw-away store and no HSTS. While dev runs, give it to the
                # command line:  portcullis sessions list EMAIL --config \(runConfigPath)

                """
            do {
                try Data((header + text).utf8).write(to: URL(fileURLWithPath: runConfigPath), options: .atomic)
            } catch {
                return .failure(ConfigurationError(problems: [
                    ConfigProblem(file: runConfigPath, path: "", mark: nil, message: "cannot write the development configuration: \(error.localizedDescription)"),
                ]))
            }
        } catch {
            return .failure(error)
        }
        return ConfigurationFile.load(path: runConfigPath, environment: .system)
    }

    /// Removes the store and the written configuration.
    func remove() {
        try? FileManager.default.removeItem(atPath: temporaryFolder)
        try? FileManager.default.removeItem(atPath: runConfigPath)
    }
}
