import Foundation
import PortcullisCore
import PortcullisTokens

/// `certs/dev/`: a development CA and a server certificate for `localhost`, `127.0.0.1` and
/// `::1`, as PEM files (`ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem`), and the
/// development IdP's client secret (`oidc-client-secret`), which each machine makes for
/// itself: git keeps no file modes, and a secret file must be readable by its owner only
/// (``SecretFileMode``). Keys and the secret are written readable by the owner only.
package enum DevelopmentCertificateFiles {
    /// Every file ``write(to:overwrite:extraNames:)`` makes.
    package static let fileNames: Set<String> = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "oidc-client-secret"]

    package struct Paths: Sendable {
        package let folder: String
        package var caCertificate: String { folder + "/ca.pem" }
        package var caKey: String { folder + "/ca-key.pem" }
        package var serverCertificate: String { folder + "/server.pem" }
        package var serverKey: String { folder + "/server-key.pem" }
        package var clientSecret: String { folder + "/oidc-client-secret" }

        package init(folder: String) {
            self.folder = folder
        }

        package var allPresent: Bool {
            [caCertificate, caKey, serverCertificate, serverKey].allSatisfy { FileManager.default.fileExists(atPath: $0) }
        }
    }

    /// Writes a new CA and server certificate. Existing files are replaced only with `overwrite`.
    @discardableResult
    package static func write(to folder: String, overwrite: Bool = false, extraNames: [String] = []) throws -> Paths {
        let paths = Paths(folder: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The secret on its own, so that certificates made before it keep their CA.
        if overwrite || !FileManager.default.fileExists(atPath: paths.clientSecret) {
            try write(SessionToken.random() + "\n", to: paths.clientSecret, private: true)
        }
        if paths.allPresent, !overwrite { return paths }
        let authority = try DevelopmentCertificateAuthority.make()
        let server = try authority.issueServerCertificate(
            dnsNames: ["localhost"] + extraNames,
            ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1), IPAddress(ipv6: 1)]
        )
        try write(line(authority.certificatePEM()), to: paths.caCertificate, private: false)
        try write(line(authority.privateKeyPEM()), to: paths.caKey, private: true)
        try write(line(server.certificatePEM()) + line(authority.certificatePEM()), to: paths.serverCertificate, private: false)
        try write(line(server.privateKeyPEM()), to: paths.serverKey, private: true)
        return paths
    }

    /// PEM blocks end with a newline, so that chains concatenate cleanly.
    private static func line(_ pem: String) -> String {
        pem.hasSuffix("\n") ? pem : pem + "\n"
    }

    private static func write(_ text: String, to path: String, private isPrivate: Bool) throws {
        let url = URL(fileURLWithPath: path)
        try Data(text.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: isPrivate ? 0o600 : 0o644], ofItemAtPath: path)
    }
}
