import ArgumentParser
import Logging
import PortcullisConfigFile
import PortcullisCore

/// `portcullis serve`: the gateway on the configured listeners until SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: the TLS listener, the control plane and the internal listener."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        Launcher.bootstrapLogging(level: level)
        let logger = Logger(label: "portcullis")
        let configuration = try options.load()
        let launcher = try await Launcher(configuration: configuration, configPath: options.config, logger: logger)
        try await launcher.run()
    }
}
