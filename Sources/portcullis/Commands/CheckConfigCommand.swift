import ArgumentParser
import PortcullisConfigFile
import PortcullisCore

/// `portcullis check-config`: prints `FILE: OK`, or every problem in the order of the file and
/// exits 2.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration file: every problem with its file, line, key path and what was expected."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        switch ConfigurationFile.load(path: options.config, environment: .system) {
        case .success:
            print("\(options.config): OK")
        case .failure(let error):
            Console.error(error.description)
            if let command = DevelopmentCertificatesHint.command(forConfigurationAt: options.config) {
                Console.error("The missing files are development certificates. Make them with: \(command)")
            }
            throw ExitCode(2)
        }
    }
}
