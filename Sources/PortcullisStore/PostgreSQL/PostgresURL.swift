import Foundation
import NIOSSL
import PortcullisCore
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=MODE&sslrootcert=FILE`, parsed into
/// postgres-nio's settings. The URL is a secret (it holds the password): never logged whole.
///
/// TLS (issue 21 item 7): with no `sslmode`, a loopback host (`localhost`, `127.0.0.0/8`, `::1`)
/// is reached without TLS (the traffic never leaves the machine) and any other host with
/// `verify-full`: TLS, the server's chain checked against `sslrootcert` (a PEM file of CA
/// certificates; the system's roots without it) and its name against the host. `prefer`, which
/// falls back to plain text when anyone in the path refuses TLS, is never the default and is
/// refused for a host that is not loopback. Portcullis never uses TLS without checking the chain:
/// `require` checks it as `verify-full` does (libpq's `require` would not), `verify-ca` checks the
/// chain but not the name.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public let database: String
    public let tlsMode: TLSMode
    /// `sslrootcert`: the CA certificates (PEM) the server's chain must lead to; `nil` for the
    /// system's roots.
    public let rootCertificateFile: String?

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw ParseError(description: "expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw ParseError(description: "the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw ParseError(description: "the URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw ParseError(description: "the URL names no database") }
        let loopback = Self.isLoopback(host)
        var mode: TLSMode?
        var rootCertificateFile: String?
        var seen = Set<String>()
        for item in components.queryItems ?? [] {
            guard seen.insert(item.name).inserted else { throw ParseError(description: "URL parameter \(item.name) is given twice") }
            switch item.name {
            case "sslmode":
                guard let value = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw ParseError(description: "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                mode = value
            case "sslrootcert":
                guard let value = item.value, value == "system" || value.hasPrefix("/") else {
                    throw ParseError(description: "sslrootcert must be an absolute path to a PEM file of CA certificates, or system")
                }
                rootCertificateFile = value == "system" ? nil : value
            default:
                throw ParseError(description: "unknown URL parameter \(item.name) (only sslmode and sslrootcert are understood)")
            }
        }
        let tlsMode = mode ?? (loopback ? .disable : .verifyFull)
        if tlsMode == .prefer, !loopback {
            throw ParseError(description: """
                sslmode=prefer falls back to plain text when anyone between here and \(host) refuses TLS; \
                use verify-full (the default for a host that is not loopback)
                """)
        }
        if tlsMode == .verifyCA, rootCertificateFile == nil {
            throw ParseError(description: """
                sslmode=verify-ca checks the chain but not the name, so with the system's CAs any certificate they \
                issued, for any name, would pass as \(host): give sslrootcert=/path/to/your-ca.pem, or use verify-full
                """)
        }
        if let rootCertificateFile {
            guard tlsMode != .disable, tlsMode != .prefer else {
                throw ParseError(description: "sslrootcert is given but sslmode=\(tlsMode.rawValue) does not check certificates")
            }
            do {
                guard !(try NIOSSLCertificate.fromPEMFile(rootCertificateFile)).isEmpty else {
                    throw ParseError(description: "sslrootcert \(rootCertificateFile) holds no PEM certificate")
                }
            } catch let error as ParseError {
                throw error
            } catch {
                throw ParseError(description: "sslrootcert \(rootCertificateFile) cannot be read as PEM certificates (\(error))")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificateFile = rootCertificateFile
    }

    /// `localhost`, `127.0.0.0/8` or `::1`: traffic to it never leaves the machine.
    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        // Only `localhost` itself: whether `*.localhost` names resolve to loopback depends on the
        // resolver.
        if name == "localhost" { return true }
        let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        guard let address = try? IPAddress(parsing: bare) else { return false }
        return AddressScope(address) == .loopback
    }

    /// Without the password.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
            + (rootCertificateFile.map { "&sslrootcert=\($0)" } ?? "")
    }

    /// What TLS checks: the chain always, the name unless `verify-ca`.
    var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = tlsMode == .verifyCA ? .noHostnameVerification : .fullVerification
        if let rootCertificateFile {
            configuration.trustRoots = .file(rootCertificateFile)
        }
        return configuration
    }

    var tls: PostgresClient.Configuration.TLS {
        switch tlsMode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration)
        case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
        }
    }

    func clientConfiguration(maxConnections: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = maxConnections
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
        case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
