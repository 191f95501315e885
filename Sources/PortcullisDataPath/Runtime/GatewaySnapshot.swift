import Foundation
import NIOSSL
import PortcullisCore

/// Everything the data path reads for one request, as one immutable value. A reload builds a
/// new snapshot and swaps it in; requests in flight keep the one they started with.
package final class GatewaySnapshot: Sendable {
    package let configuration: GatewayConfiguration
    package let policy: AccessPolicy
    package let clientAddresses: ClientAddressResolver
    /// `Strict-Transport-Security` value, or `nil` when turned off.
    package let hsts: String?
    /// Client TLS contexts for https upstreams, by route name.
    package let upstreamTLS: [String: NIOSSLContext]
    /// The cookie names that are Portcullis's own.
    package let ownCookieNames: [String]

    package init(
        configuration: GatewayConfiguration,
        policy: AccessPolicy,
        upstreamTLS: [String: NIOSSLContext],
        ownCookieNames: [String] = SessionCookie.allNames
    ) {
        self.configuration = configuration
        self.policy = policy
        self.clientAddresses = ClientAddressResolver(trustedProxies: configuration.server.trustedProxies)
        let maxAge = configuration.server.tls.hstsMaxAge.wholeSeconds
        self.hsts = maxAge > 0 ? "max-age=\(maxAge)" : nil
        self.upstreamTLS = upstreamTLS
        self.ownCookieNames = ownCookieNames
    }

    /// Builds client TLS contexts for the https upstreams: TLS 1.2+, certificates verified,
    /// the route's CA file added to the system roots. Blocking file I/O.
    package static func makeUpstreamTLS(for routes: [Route]) throws -> [String: NIOSSLContext] {
        var byCAFile: [String: NIOSSLContext] = [:]
        var result: [String: NIOSSLContext] = [:]
        for route in routes where route.upstream?.scheme == .https {
            let key = route.upstreamCAFile ?? ""
            if let existing = byCAFile[key] {
                result[route.name] = existing
                continue
            }
            var configuration = NIOSSL.TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            configuration.applicationProtocols = ["http/1.1"]
            if let file = route.upstreamCAFile {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(file))]
            }
            let context = try NIOSSLContext(configuration: configuration)
            byCAFile[key] = context
            result[route.name] = context
        }
        return result
    }
}
