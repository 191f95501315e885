import Foundation
import Logging
import NIOPosix
import PortcullisCore
import PortcullisDevelopment
@testable import PortcullisStore
import PortcullisTestSupport
import PostgresNIO
import Testing

/// The store's TLS to PostgreSQL (issue 21 item 7): `verify-full` unless the host is loopback,
/// never `prefer` by default, a CA of the operator's choosing. Before, a URL with no `sslmode`
/// meant `prefer`: anyone in the path could refuse TLS and read the password and every query.
@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {
    @Test("with no sslmode, a loopback host is plain and any other host is verify-full; prefer is refused off loopback")
    func defaults() throws {
        #expect(try PostgresURL(parsing: "postgres://app@db.internal/portcullis").tlsMode == .verifyFull)
        #expect(try PostgresURL(parsing: "postgres://app@10.0.0.7/portcullis").tlsMode == .verifyFull)
        #expect(try PostgresURL(parsing: "postgres://app@[2001:db8::5]/portcullis").tlsMode == .verifyFull)
        for loopback in ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"] {
            #expect(try PostgresURL(parsing: "postgres://app@\(loopback)/portcullis").tlsMode == .disable, "\(loopback)")
        }
        // A look-alike of loopback is not loopback.
        #expect(try PostgresURL(parsing: "postgres://app@localhost.evil.example/portcullis").tlsMode == .verifyFull)
        #expect(try PostgresURL(parsing: "postgres://app@db.localhost/portcullis").tlsMode == .verifyFull, "*.localhost may resolve anywhere")
        #expect(try PostgresURL(parsing: "postgres://app@127.0.0.1.nip.io/portcullis").tlsMode == .verifyFull)

        let prefer = #expect(throws: PostgresURL.ParseError.self) {
            try PostgresURL(parsing: "postgres://app@db.internal/portcullis?sslmode=prefer")
        }
        #expect(prefer?.description.contains("plain text") == true)
        #expect(try PostgresURL(parsing: "postgres://app@127.0.0.1/portcullis?sslmode=prefer").tlsMode == .prefer)
        for mode in ["disable", "require", "verify-full"] {
            #expect(try PostgresURL(parsing: "postgres://app@db.internal/portcullis?sslmode=\(mode)").tlsMode.rawValue == mode)
        }
        #expect(try PostgresURL(parsing: "postgres://app@db/p?sslmode=require").tlsConfiguration.certificateVerification == .fullVerification)
        #expect(try PostgresURL(parsing: "postgres://app@db/p").description.hasSuffix("sslmode=verify-full"))
    }

    @Test("sslrootcert: an absolute PEM file, or system; refused with a reason otherwise")
    func rootCertificates() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-pgtls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let authority = try DevelopmentCertificateAuthority.make(commonName: "Portcullis Test CA (test fixture)")
        try Data(try authority.certificatePEM().utf8).write(to: URL(fileURLWithPath: folder + "/ca.pem"))
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: folder + "/junk.pem"))

        let url = try PostgresURL(parsing: "postgres://app@db.internal/portcullis?sslrootcert=\(folder)/ca.pem")
        #expect(url.rootCertificateFile == folder + "/ca.pem")
        // verify-ca checks the chain but not the name (every other TLS mode checks both), so it
        // takes the operator's own CA only: with the system's, any public certificate for any
        // name would pass as the database (adversarial review of issue 21).
        let verifyCA = try PostgresURL(parsing: "postgres://app@db.internal/portcullis?sslmode=verify-ca&sslrootcert=\(folder)/ca.pem")
        #expect(verifyCA.tlsConfiguration.certificateVerification == .noHostnameVerification)
        #expect(try PostgresURL(parsing: "postgres://app@db.internal/portcullis?sslrootcert=system").rootCertificateFile == nil)
        let refused: [(String, String)] = [
            ("sslrootcert=ca.pem", "absolute path"),
            ("sslrootcert=\(folder)/missing.pem", "cannot be read"),
            ("sslrootcert=\(folder)/junk.pem", "PEM"),
            ("sslmode=disable&sslrootcert=\(folder)/ca.pem", "does not check certificates"),
            ("sslmode=require&sslmode=disable", "twice"),
            ("sslmode=allow", "sslmode must be one of"),
            ("sslmode=verify-ca", "sslrootcert="),
            ("sslmode=verify-ca&sslrootcert=system", "sslrootcert="),
        ]
        for (query, words) in refused {
            let error = #expect(throws: PostgresURL.ParseError.self, "\(query)") {
                try PostgresURL(parsing: "postgres://app@db.internal/portcullis?\(query)")
            }
            #expect(error?.description.contains(words) == true, "\(query): \(error?.description ?? "")")
        }
    }

    @Test("against a real PostgreSQL with TLS: verify-full with its CA connects; another CA or another name is refused")
    func realServer() async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let database = String(try cluster.createDatabase().split(separator: "/").last?.split(separator: "?").first ?? "")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-pgtls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // The server's certificate names localhost only (test fixtures, made here).
        let authority = try DevelopmentCertificateAuthority.make(commonName: "Portcullis Test CA (test fixture)")
        let issued = try authority.issueServerCertificate(dnsNames: ["localhost"])
        try await cluster.enableTLS(certificatePEM: try issued.certificatePEM(), keyPEM: try issued.privateKeyPEM())
        try Data(try authority.certificatePEM().utf8).write(to: URL(fileURLWithPath: folder + "/ca.pem"))
        let stranger = try DevelopmentCertificateAuthority.make(commonName: "Another CA (test fixture)")
        try Data(try stranger.certificatePEM().utf8).write(to: URL(fileURLWithPath: folder + "/other-ca.pem"))

        var logger = Logger(label: "test")
        logger.logLevel = .critical
        func connects(_ text: String) async throws -> Bool {
            let url = try PostgresURL(parsing: text)
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try url.connectionConfiguration(), id: 1, logger: logger
                )
                defer { Task { try? await connection.close() } }
                // Over TLS: the server says so for this very connection.
                let rows = try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
                for try await ssl in rows.decode(Bool.self) { return ssl }
                return false
            } catch {
                return false
            }
        }
        let base = "postgres://portcullis@localhost:\(cluster.port)/\(database)"
        #expect(try await connects("\(base)?sslmode=verify-full&sslrootcert=\(folder)/ca.pem"), "verify-full with the server's CA")
        #expect(try await !connects("\(base)?sslmode=verify-full&sslrootcert=\(folder)/other-ca.pem"), "a certificate from another CA")
        #expect(try await !connects("\(base)?sslmode=verify-full"), "the system's roots do not hold the test CA")
        #expect(try await !connects("\(base)?sslmode=require&sslrootcert=\(folder)/other-ca.pem"), "require checks the chain too")
        // 127.0.0.1 is not a name the certificate gives: verify-full refuses, verify-ca does not.
        let byAddress = "postgres://portcullis@127.0.0.1:\(cluster.port)/\(database)"
        #expect(try await !connects("\(byAddress)?sslmode=verify-full&sslrootcert=\(folder)/ca.pem"), "a name the certificate does not give")
        #expect(try await connects("\(byAddress)?sslmode=verify-ca&sslrootcert=\(folder)/ca.pem"), "verify-ca with the server's CA")
    }
}
