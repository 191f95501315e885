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
        _ configuration: GatewayConfiguration, logger: Logger, observer: (any StoreOperationObserver)? = nil, creating: Bool = true
    ) async throws -> OpenedStore {
        try await OpenedStore.open(
            configuration.store, secret: { try SecretReader.read($0) }, logger: logger, observer: observer, creating: creating
        )
    }

    /// Whether a command may make the store it names: only `admin bootstrap` (the first step on
    /// a new host) does. The others read or change what is there, and refuse a missing store
    /// rather than answer from an empty one ("no user", "chain intact").
    enum Absent {
        case create
        case refuse(command: String)
    }

    /// The configuration (network and store only: certificates and secrets other than the
    /// store's are not needed to work on the store) and its store; exits 2 on a bad file or
    /// a store that is missing and may not be made.
    static func load(_ path: String, ifAbsent absent: Absent) async throws -> (GatewayConfiguration, OpenedStore) {
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
            if case .refuse = absent {
                return (configuration, try await open(configuration, logger: logger, creating: false))
            }
            return (configuration, try await open(configuration, logger: logger))
        } catch let missing as OpenedStore.Missing {
            let command = if case .refuse(let command) = absent { command } else { "portcullis" }
            Console.error("""
                \(command): no store: \(missing.problem) (\(missing.key) in \(path)); nothing was created.
                  Give --config the configuration the gateway runs with. While `portcullis dev` runs, that is \
                the file its banner names (conf/portcullis-dev.yaml in a checkout).
                """)
            throw ExitCode(2)
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
    }

    /// Runs `body` on the configured store, closing it afterwards.
    static func withStore<T>(
        _ path: String, ifAbsent absent: Absent, _ body: (GatewayConfiguration, any GatewayStore) async throws -> T
    ) async throws -> T {
        let (configuration, opened) = try await load(path, ifAbsent: absent)
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
