import ArgumentParser
import Foundation
import Logging
import PortcullisConfigFile
import PortcullisCore
import PortcullisStore

/// Opens the store a configuration names, for `serve` and for the commands that work on the
/// store directly (`admin`, `sessions`, `audit`).
enum StoreOpener {
    static func open(
        _ configuration: GatewayConfiguration, logger: Logger, observer: (any StoreOperationObserver)? = nil
    ) async throws -> OpenedStore {
        try await OpenedStore.open(configuration.store, secret: { try SecretReader.read($0) }, logger: logger, observer: observer)
    }

    /// The configuration (network and store only: certificates and secrets other than the
    /// store's are not needed to work on the store) and its store; exits 2 on a bad file.
    static func load(_ path: String) async throws -> (GatewayConfiguration, OpenedStore) {
        let configuration: GatewayConfiguration
        switch ConfigurationFile.load(path: path, environment: .networkOnly) {
        case .success(let loaded): configuration = loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(2)
        }
        do {
            var logger = Logger(label: "portcullis.cli")
            logger.logLevel = .warning
            return (configuration, try await open(configuration, logger: logger))
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
    }

    /// Runs `body` on the configured store, closing it afterwards.
    static func withStore<T>(
        _ path: String, _ body: (GatewayConfiguration, any GatewayStore) async throws -> T
    ) async throws -> T {
        let (configuration, opened) = try await load(path)
        do {
            let result = try await body(configuration, opened.store)
            await opened.close()
            return result
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Who did it, for audit entries written from the command line.
    static var cliActor: String {
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return "cli:\(user)"
    }
}
