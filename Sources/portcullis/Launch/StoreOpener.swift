import ArgumentParser
import Foundation
import Logging
import PortcullisConfigFile
import PortcullisCore
import PortcullisStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        case create(command: String)
        case refuse(command: String)

        var command: String {
            switch self {
            case .create(let command), .refuse(let command): command
            }
        }
    }

    /// Refuses (exit 2) to open an SQLite store as another account than the one it belongs to
    /// (``StoreOwnership``): nothing is opened or created. A store that does not exist yet is
    /// checked only when the command may make it.
    static func requireOwnership(of store: StoreConfiguration, command: String, mayMake: Bool) throws {
        guard case .sqlite(let path) = store, mayMake || FileManager.default.fileExists(atPath: path),
              let refusal = StoreOwnership.refusal(forSQLiteAt: path, runningAs: geteuid()) else { return }
        Console.error("""
            \(command): refused: \(refusal.problem).
              Run as \(refusal.owner): \(refusal.command(Array(CommandLine.arguments.dropFirst())))
            """)
        throw ExitCode(2)
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
        let mayMake = if case .create = absent { true } else { false }
        try requireOwnership(of: configuration.store, command: absent.command, mayMake: mayMake)
        do {
            var logger = Logger(label: "portcullis.cli")
            logger.logLevel = .warning
            if case .refuse = absent {
                return (configuration, try await open(configuration, logger: logger, creating: false))
            }
            return (configuration, try await open(configuration, logger: logger))
        } catch let missing as OpenedStore.Missing {
            Console.error("""
                \(absent.command): no store: \(missing.problem) (\(missing.key) in \(path)); nothing was created.
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

    /// Who did it, for audit entries written from the command line: the person behind sudo,
    /// else `$USER`, else the account the process runs as (systemd units, cron and `env -i`
    /// set no `$USER`), else its uid. Never empty.
    static var cliActor: String {
        let environment = ProcessInfo.processInfo.environment
        let named = [environment["SUDO_USER"], environment["USER"], AccountName.of(uid: geteuid())]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
            .first { !$0.isEmpty }
        return "cli:\(named ?? "uid \(geteuid())")"
    }
}
