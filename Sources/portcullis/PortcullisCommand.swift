import ArgumentParser
import PortcullisConfigFile
import PortcullisCore

/// `portcullis`: the one binary.
@main
struct PortcullisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis",
        abstract: "A TLS reverse proxy that decides every request: identity, network policy, effective role.",
        version: PortcullisVersion.line,
        subcommands: [
            ServeCommand.self,
            DevCommand.self,
            CheckConfigCommand.self,
            IPCheckCommand.self,
            CertsCommand.self,
            AdminCommand.self,
            SessionsCommand.self,
            GroupsCommand.self,
            AuditCommand.self,
            IdPRegistrationCommand.self,
        ]
    )
}

/// `--config FILE`, shared by the commands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = ConfigurationFile.defaultPath

    /// The configuration, or every problem on standard error and exit 2.
    func load() throws -> GatewayConfiguration {
        switch ConfigurationFile.load(path: config, environment: .system) {
        case .success(let loaded): return loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(2)
        }
    }
}
