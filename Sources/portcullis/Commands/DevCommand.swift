import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOSSL
import PortcullisConfigFile
import PortcullisCore
import PortcullisServer
import ServiceLifecycle
import PortcullisDataPath
import PortcullisControlPlane
import PortcullisDevelopment

/// `portcullis dev`: everything on one machine for a first look: the gateway on
/// https://localhost:8443, a development identity provider on https://localhost:9443 with the
/// users of `conf/dev-users.yaml`, an upstream on 127.0.0.1:8080 that shows the identity it
/// receives, SQLite in a temporary folder and development certificates.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the gateway with a development IdP and an echo upstream (development only)."
    )

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "notice"

    func run() async throws {
        Launcher.bootstrapLogging(level: Logger.Level(rawValue: logLevel) ?? .notice)
        let logger = Logger(label: "portcullis.dev")
        let workspace = try DevWorkspace.prepare()
        let configuration: GatewayConfiguration
        switch ConfigurationFile.load(path: workspace.configPath, environment: .system) {
        case .success(var loaded):
            loaded.store = .sqlite(path: workspace.temporaryFolder + "/portcullis.sqlite")
            configuration = loaded
        case .failure(let error):
            Console.error(error.description)
            throw ExitCode(2)
        }
        let directory: DevIdentityDirectory
        do {
            let root = try ConfigurationFile.parse(text: try ConfigurationFile.read(path: workspace.usersPath), file: workspace.usersPath)
            directory = try DevIdentityDirectory.decode(root, file: workspace.usersPath, environment: .system).get()
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        let secret = try SecretReader.read(directory.client.secret)
        let certificates = DevelopmentCertificateFiles.Paths(folder: workspace.certificatesFolder)
        let idpCertificate = try ServerCertificate.load(CertificateFiles(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey))
        var idpTLS = NIOSSL.TLSConfiguration.makeServerConfiguration(
            certificateChain: idpCertificate.chain.map { .certificate($0) }, privateKey: .privateKey(idpCertificate.privateKey)
        )
        idpTLS.minimumTLSVersion = .tlsv12
        let provider = try DevIdentityProvider(
            directory: directory,
            clientSecret: secret,
            signingKey: try await ES256SigningKey(keyID: "dev-" + SessionToken.random(bytes: 6)),
            backchannelTrust: .certificates(try NIOSSLCertificate.fromPEMFile(certificates.caCertificate)),
            logger: Logger(label: "portcullis.dev-idp")
        )
        let upstreamPort = configuration.routes.compactMap(\.upstream).first { $0.host == "127.0.0.1" }?.port ?? 8080
        let launcher = try await Launcher(configuration: configuration, configPath: workspace.configPath, logger: logger)
        // The first development user is the super admin, as `admin bootstrap` would make one.
        let store = launcher.assembly.store
        var superAdmin = try await store.roleHolders().holders(of: .primary(.superAdmin)).map(\.description).sorted().first
        if superAdmin == nil, let first = directory.users.first {
            let user = try await store.ensureUser(email: first.email, at: Date())
            let audit = AuditContext(actor: "dev", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
            _ = try await store.bootstrapSuperAdmin(userID: user.id, force: false, audit: audit)
            superAdmin = "user \(user.email)"
        }
        Console.out(Self.banner(
            configuration: configuration, directory: directory, workspace: workspace, upstreamPort: upstreamPort, superAdmin: superAdmin
        ))
        do {
            try await launcher.run(extraServices: [
                try provider.makeApplication(tls: idpTLS),
                EchoUpstream.makeApplication(port: upstreamPort, logger: Logger(label: "portcullis.dev-upstream")),
            ])
        } catch {
            await provider.shutdown()
            try? FileManager.default.removeItem(atPath: workspace.temporaryFolder)
            Console.error("portcullis dev: \(error) (is another portcullis dev running? it needs ports 8443, 9443, 8080 and 9090)")
            throw ExitCode(1)
        }
        await provider.shutdown()
        try? FileManager.default.removeItem(atPath: workspace.temporaryFolder)
    }

    static func banner(
        configuration: GatewayConfiguration, directory: DevIdentityDirectory, workspace: DevWorkspace, upstreamPort: Int, superAdmin: String?
    ) -> String {
        let users = directory.users.map { user in
            "    \(user.email.padding(toLength: 22, withPad: " ", startingAt: 0)) password \(user.password)   \(user.department ?? "")  groups: \(user.groups.joined(separator: ", "))\(user.mfa ? "  (MFA)" : "")"
        }.joined(separator: "\n")
        return """

        Portcullis development mode — DEVELOPMENT ONLY

          Open      \(configuration.server.publicURL.origin)/
          IdP       \(directory.issuer)  (built in, loopback only)
          Upstream  http://127.0.0.1:\(upstreamPort)  (shows the identity headers it receives)
          Metrics   http://\(configuration.server.internalListen)/metrics
          Store     \(workspace.temporaryFolder)/portcullis.sqlite (deleted on exit)
          CA        \(workspace.certificatesFolder)/ca.pem  (curl --cacert \(workspace.certificatesFolder)/ca.pem …)

          Console   \(configuration.server.publicURL.origin)/_portcullis/console/
          Admin API \(configuration.server.publicURL.origin)/_portcullis/api/v1/me  (super admin: \(superAdmin ?? "none"))

          Sign in as any of these (from \(workspace.usersPath)):
        \(users)

          Ctrl-C stops everything.

        """
    }
}

/// Where `dev` finds its files: the checkout's `conf/` and `certs/dev/` when run from one;
/// otherwise a temporary folder holding the embedded defaults.
struct DevWorkspace {
    let configPath: String
    let usersPath: String
    let certificatesFolder: String
    let temporaryFolder: String

    static func prepare() throws -> DevWorkspace {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-dev-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: "conf/portcullis.yaml"), FileManager.default.fileExists(atPath: "conf/dev-users.yaml") {
            try DevelopmentCertificateFiles.write(to: "certs/dev")
            return DevWorkspace(configPath: "conf/portcullis.yaml", usersPath: "conf/dev-users.yaml", certificatesFolder: "certs/dev", temporaryFolder: temporary)
        }
        // Not a checkout: lay out the embedded defaults, with a fresh client secret.
        let conf = temporary + "/conf"
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        try Data(DevDefaults.gatewayConfiguration.utf8).write(to: URL(fileURLWithPath: conf + "/portcullis.yaml"))
        try Data(DevDefaults.developmentUsers.utf8).write(to: URL(fileURLWithPath: conf + "/dev-users.yaml"))
        try Data(SessionToken.random().utf8).write(to: URL(fileURLWithPath: conf + "/dev-oidc-client-secret"))
        try DevelopmentCertificateFiles.write(to: temporary + "/certs/dev")
        return DevWorkspace(
            configPath: conf + "/portcullis.yaml", usersPath: conf + "/dev-users.yaml",
            certificatesFolder: temporary + "/certs/dev", temporaryFolder: temporary
        )
    }
}
