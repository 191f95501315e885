import ArgumentParser
import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisStore

/// Opens the store a configuration names, for `serve` and for the commands that work on the
/// store directly (`admin`, `sessions`, `audit`).
enum StoreOpener {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func open(_ configuration: GatewayConfiguration) throws -> any GatewayStore {
        switch configuration.store {
        case .sqlite(let path):
            do {
                return try SQLiteStore(path: path)
            } catch {
                throw Failure(description: "store.sqlite.path \(path): cannot open: \(error)")
            }
        case .postgres:
            throw Failure(description: "store.postgres: the PostgreSQL store is not available in this build; use store.sqlite")
        }
    }

    /// The configuration (network and store only: certificates and secrets are not needed to
    /// work on the store) and its store; exits 2 with the problems on a bad file.
    static func load(_ path: String) throws -> (GatewayConfiguration, any GatewayStore) {
        let configuration: GatewayConfiguration
        switch ConfigurationFile.load(path: path, environment: .networkOnly) {
        case .success(let loaded): configuration = loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(2)
        }
        do {
            return (configuration, try open(configuration))
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
    }

    /// Who did it, for audit entries written from the command line.
    static var cliActor: String {
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return "cli:\(user)"
    }
}
