import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`, parsed into
/// postgres-nio's settings. The URL is a secret (it holds the password): never logged whole.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public let database: String
    public let tlsMode: TLSMode

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
        var mode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw ParseError(description: "sslmode must be disable, prefer or require")
                }
                mode = value
            default:
                throw ParseError(description: "unknown URL parameter \(item.name) (only sslmode is understood)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
        self.tlsMode = mode
    }

    /// Without the password.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)" }

    var tls: PostgresClient.Configuration.TLS {
        switch tlsMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 16
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
