import Foundation
import NIOSSL
import PortcullisCore
import X509
import PortcullisDevelopment

/// A test CA and server certificates written to a temporary folder (test fixtures made fresh
/// for each run, never committed).
struct TestCertificates {
    let folder: String
    let authority: DevelopmentCertificateAuthority
    let caPEM: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        authority = try DevelopmentCertificateAuthority.make(commonName: "Portcullis Test CA")
        caPEM = try authority.certificatePEM()
        try write(caPEM, "ca.pem")
    }

    /// Issues a certificate for the names and writes `<name>.pem` and `<name>-key.pem`.
    @discardableResult
    func issue(_ name: String, dnsNames: [String], ipAddresses: [IPAddress] = [], commonName: String? = nil) throws -> CertificateFiles {
        let issued = try authority.issueServerCertificate(dnsNames: dnsNames, ipAddresses: ipAddresses, commonName: commonName)
        let files = CertificateFiles(certificateFile: "\(folder)/\(name).pem", keyFile: "\(folder)/\(name)-key.pem")
        try write(try issued.certificatePEM() + "\n" + caPEM, "\(name).pem")
        try write(try issued.privateKeyPEM(), "\(name)-key.pem")
        return files
    }

    /// Writes a fixture file readable by its owner only, as the gateway wants any secret file
    /// (``SecretFileMode``); certificates too, which does no harm.
    func write(_ text: String, _ name: String) throws {
        let path = "\(folder)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    var caFile: String { "\(folder)/ca.pem" }

    func trustRoots() throws -> NIOSSLTrustRoots {
        .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
