import ArgumentParser
import PortcullisDevelopment

/// `portcullis certs dev`: a development CA and server certificate in `certs/dev/`.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Certificate helpers.",
        subcommands: [DevCertsCommand.self]
    )
}

struct DevCertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Write a local development CA and a server certificate for localhost, 127.0.0.1 and ::1."
    )

    @Option(help: "The folder to write into.")
    var out: String = "certs/dev"

    @Flag(help: "Replace existing files.")
    var force = false

    @Option(help: "Extra DNS names for the server certificate (repeatable).")
    var name: [String] = []

    func run() async throws {
        let existed = DevelopmentCertificateFiles.Paths(folder: out).allPresent
        let paths = try DevelopmentCertificateFiles.write(to: out, overwrite: force, extraNames: name)
        if existed, !force {
            print("\(out) already holds development certificates (use --force to replace them)")
        } else {
            print("wrote \(paths.caCertificate), \(paths.caKey), \(paths.serverCertificate), \(paths.serverKey)")
        }
        print("""
        These are for development only. To trust the development CA on this machine:
          Debian/Ubuntu:  sudo cp \(paths.caCertificate) /usr/local/share/ca-certificates/portcullis-dev.crt && sudo update-ca-certificates
          curl:           curl --cacert \(paths.caCertificate) https://localhost:8443/
          Firefox/Chrome: import \(paths.caCertificate) as an authority in the browser's certificate settings
        """)
    }
}
