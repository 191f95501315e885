import Foundation
import NIOSSL
import PortcullisCore
import SwiftASN1
import X509

/// One certificate chain and key, loaded from PEM files and checked: the key matches the leaf,
/// the names it serves (SANs) are known, and its expiry is known.
package struct ServerCertificate: Sendable {
    package let files: CertificateFiles
    package let chain: [NIOSSLCertificate]
    package let privateKey: NIOSSLPrivateKey
    /// Lower-case DNS names, `*.example.com` wildcards included.
    package let dnsNames: [String]
    package let ipAddresses: [IPAddress]
    package let notValidAfter: Date
    package let subject: String

    package struct LoadError: Error, CustomStringConvertible, Sendable {
        package let file: String
        package let reason: String
        package var description: String { "\(file): \(reason)" }

        package init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }
    }

    /// Reads and checks a pair of PEM files. Blocking file I/O: call it off an event loop.
    package static func load(_ files: CertificateFiles) throws(LoadError) -> ServerCertificate {
        let chainText = try read(files.certificateFile)
        let keyText = try read(files.keyFile)
        return try make(files: files, chainPEM: chainText, keyPEM: keyText)
    }

    /// Checks PEM text already in memory.
    package static func make(files: CertificateFiles, chainPEM: String, keyPEM: String) throws(LoadError) -> ServerCertificate {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: chainPEM).filter { $0.discriminator == "CERTIFICATE" }
        } catch {
            throw LoadError(file: files.certificateFile, reason: "not a PEM certificate chain (\(error))")
        }
        guard let leafDocument = documents.first else {
            throw LoadError(file: files.certificateFile, reason: "no CERTIFICATE block found")
        }
        let leaf: Certificate
        let key: Certificate.PrivateKey
        do {
            leaf = try Certificate(pemDocument: leafDocument)
        } catch {
            throw LoadError(file: files.certificateFile, reason: "the first certificate cannot be parsed (\(error))")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        } catch {
            throw LoadError(file: files.keyFile, reason: "not a PEM private key (\(error))")
        }
        guard key.publicKey == leaf.publicKey else {
            throw LoadError(file: files.keyFile, reason: "the private key does not match the certificate in \(files.certificateFile)")
        }
        let chain: [NIOSSLCertificate]
        let nioKey: NIOSSLPrivateKey
        do {
            chain = try documents.map { try NIOSSLCertificate(bytes: Array($0.derBytes), format: .der) }
            nioKey = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        } catch {
            throw LoadError(file: files.certificateFile, reason: "BoringSSL refused the certificate or key (\(error))")
        }
        var dnsNames: [String] = []
        var addresses: [IPAddress] = []
        if let sans = try? leaf.extensions.subjectAlternativeNames {
            for name in sans {
                switch name {
                case .dnsName(let dns): dnsNames.append(dns.lowercased())
                case .ipAddress(let octets): if let address = IPAddress(bytes: octets.bytes) { addresses.append(address) }
                default: continue
                }
            }
        }
        return ServerCertificate(
            files: files, chain: chain, privateKey: nioKey, dnsNames: dnsNames, ipAddresses: addresses,
            notValidAfter: leaf.notValidAfter, subject: leaf.subject.description
        )
    }

    /// Whether this certificate serves `host` (an SNI name): exact, or a one-label wildcard.
    package func serves(_ host: String) -> Bool {
        let host = host.lowercased()
        if let address = try? IPAddress(parsing: host) { return ipAddresses.contains(address) }
        for name in dnsNames {
            if name == host { return true }
            if name.hasPrefix("*."), let dot = host.firstIndex(of: "."), host[host.index(after: dot)...] == name.dropFirst(2),
               host.startIndex != dot {
                return true
            }
        }
        return false
    }

    private static func read(_ path: String) throws(LoadError) -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard data.count <= 1_048_576 else { throw LoadError(file: path, reason: "larger than 1 MiB") }
            guard let text = String(data: data, encoding: .utf8) else { throw LoadError(file: path, reason: "not text") }
            return text
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(file: path, reason: "cannot read (\((error as NSError).localizedDescription))")
        }
    }
}
