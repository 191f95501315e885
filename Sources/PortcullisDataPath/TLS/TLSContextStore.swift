import Foundation
import Logging
import NIOSSL
import PortcullisCore
import Synchronization

/// The listener's current TLS context. New connections take whatever is current; a reload
/// swaps it without touching open connections. A bad file keeps the old context and says why.
package final class TLSContextStore: Sendable {
    private struct State: Sendable {
        var context: NIOSSLContext
        var certificates: [ServerCertificate]
        var configuration: TLSSettings
        var stamps: [String: FileStamp]
    }

    private let state: Mutex<State>

    /// Loads every configured pair. Blocking file I/O: call it off an event loop.
    package init(configuration: TLSSettings) throws {
        let certificates = try Self.load(configuration)
        let context = try ServerTLSContext.make(certificates: certificates, minimumVersion: configuration.minimumVersion)
        state = Mutex(State(
            context: context, certificates: certificates, configuration: configuration,
            stamps: Self.stamps(configuration)
        ))
    }

    /// For tests: a context from certificates already in memory.
    package init(certificates: [ServerCertificate], minimumVersion: TLSSettings.MinimumVersion = .tls12) throws {
        let context = try ServerTLSContext.make(certificates: certificates, minimumVersion: minimumVersion)
        state = Mutex(State(
            context: context, certificates: certificates,
            configuration: TLSSettings(certificates: certificates.map(\.files), minimumVersion: minimumVersion),
            stamps: [:]
        ))
    }

    package var context: NIOSSLContext { state.withLock { $0.context } }
    package var certificates: [ServerCertificate] { state.withLock { $0.certificates } }

    /// Re-reads the certificate files (for SIGHUP, or a new configuration). On failure the old
    /// context stays in use and the error says which file and why.
    @discardableResult
    package func reload(configuration newConfiguration: TLSSettings? = nil, logger: Logger) -> Bool {
        let configuration = newConfiguration ?? state.withLock { $0.configuration }
        do {
            let certificates = try Self.load(configuration)
            let context = try ServerTLSContext.make(certificates: certificates, minimumVersion: configuration.minimumVersion)
            state.withLock {
                $0 = State(context: context, certificates: certificates, configuration: configuration, stamps: Self.stamps(configuration))
            }
            logger.info("TLS certificates reloaded", metadata: [
                "certificates": "\(certificates.count)",
                "subjects": "\(certificates.map(\.subject).joined(separator: "; "))",
            ])
            return true
        } catch {
            state.withLock { $0.stamps = Self.stamps(configuration) }
            logger.error("TLS certificate reload failed; keeping the certificates in use", metadata: ["reason": "\(error)"])
            return false
        }
    }

    /// Reloads when a certificate or key file's modification time or size changed.
    @discardableResult
    package func reloadIfChanged(logger: Logger) -> Bool {
        let (configuration, old) = state.withLock { ($0.configuration, $0.stamps) }
        guard Self.stamps(configuration) != old else { return false }
        return reload(logger: logger)
    }

    private static func load(_ configuration: TLSSettings) throws -> [ServerCertificate] {
        try configuration.certificates.map { files in try ServerCertificate.load(files) }
    }

    private struct FileStamp: Hashable, Sendable {
        let modified: Date?
        let size: Int?
    }

    private static func stamps(_ configuration: TLSSettings) -> [String: FileStamp] {
        var result: [String: FileStamp] = [:]
        for files in configuration.certificates {
            for path in [files.certificateFile, files.keyFile] {
                let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                result[path] = FileStamp(
                    modified: attributes?[.modificationDate] as? Date,
                    size: (attributes?[.size] as? NSNumber)?.intValue
                )
            }
        }
        return result
    }
}
