import NIOCore
import NIOSSL
import PortcullisCore

/// Builds the listener's TLS context: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers for 1.2,
/// ALPN `h2` and `http/1.1`, and SNI choosing among several certificates (SPEC §9).
package enum ServerTLSContext {
    /// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are all AEAD and are not
    /// configurable in BoringSSL.
    package static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    package static let applicationProtocols = ["h2", "http/1.1"]

    /// The first certificate is the default; the others are chosen by SNI from their SANs.
    package static func make(
        certificates: [ServerCertificate],
        minimumVersion: TLSSettings.MinimumVersion,
        applicationProtocols: [String] = applicationProtocols
    ) throws -> NIOSSLContext {
        guard let primary = certificates.first else {
            throw ServerCertificate.LoadError(file: "server.tls.certificates", reason: "no certificate configured")
        }
        var configuration = NIOSSL.TLSConfiguration.makeServerConfiguration(
            certificateChain: primary.chain.map { .certificate($0) },
            privateKey: .privateKey(primary.privateKey)
        )
        configuration.minimumTLSVersion = minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuiteValues = tls12CipherSuites
        configuration.applicationProtocols = applicationProtocols
        configuration.renegotiationSupport = .none
        configuration.certificateVerification = .none
        // A closing connection waits this long for the client's close_notify before the socket
        // goes. A client that reads nothing never sends one; 5 s (NIOSSL's default) kept every such
        // connection 5 s past its send_timeout.
        configuration.shutdownTimeout = .seconds(1)
        if certificates.count > 1 {
            let others = Array(certificates.dropFirst())
            configuration.sslContextCallback = { values, promise in
                guard let host = values.serverHostname, !primary.serves(host),
                      let match = others.first(where: { $0.serves(host) })
                else {
                    promise.succeed(.noChanges)
                    return
                }
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = match.chain.map { .certificate($0) }
                override.privateKey = .privateKey(match.privateKey)
                promise.succeed(override)
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
