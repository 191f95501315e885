import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOSSL
import PortcullisConfigFile
import PortcullisCore
import PortcullisServer
import PortcullisTokens
import PortcullisDataPath
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
        switch workspace.writeRunConfiguration() {
        case .success(let loaded):
            configuration = loaded
        case .failure(let error):
            workspace.remove()
            Console.error(error.description)
            throw ExitCode(2)
        }
        do {
            try await run(configuration, in: workspace, logger: logger)
        } catch {
            workspace.remove()
            throw error
        }
        workspace.remove()
    }

    private func run(_ configuration: GatewayConfiguration, in workspace: DevWorkspace, logger: Logger) async throws {
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
        let launcher = try await Launcher(
            configuration: configuration, configPath: workspace.runConfigPath, logger: logger,
            reload: { workspace.writeRunConfiguration() }
        )
        let store = launcher.assembly.store
        // Everyone in conf/dev-users.yaml is a teammate from the start (as SCIM would make them),
        // with the profile and groups the development IdP will sign them in with.
        let now = Date()
        for user in directory.users {
            _ = try await store.recordLogin(
                LoginProfile(subject: user.subject, email: user.email, name: user.name, department: user.department, groups: user.groups), at: now
            )
        }
        // The first development user is the super admin, as `admin bootstrap` would make one.
        var superAdmin = try await store.roleHolders().holders(of: .primary(.superAdmin)).map(\.description).sorted().first
        if superAdmin == nil, let first = directory.users.first {
            let user = try await store.ensureUser(email: first.email, at: now)
            let audit = AuditContext(actor: "dev", actorIsSuperAdmin: false, sourceIP: nil, at: now)
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
            Console.error("portcullis dev: \(error) (is another portcullis dev running? it needs ports 8443, 9443, 8080 and 9090)")
            throw ExitCode(1)
        }
        await provider.shutdown()
    }

    static func banner(
        configuration: GatewayConfiguration, directory: DevIdentityDirectory, workspace: DevWorkspace, upstreamPort: Int, superAdmin: String?
    ) -> String {
        let users = directory.users.map { user in
            "    \(user.email.padding(toLength: 22, withPad: " ", startingAt: 0)) password \(user.password)   \(user.department ?? "")  groups: \(user.groups.joined(separator: ", "))\(user.mfa ? "  (MFA)" : "")"
        }.joined(separator: "\n")
        let example = directory.users.first?.email ?? "EMAIL"
        return """

        Portcullis development mode — DEVELOPMENT ONLY

          Open      \(configuration.server.publicURL.origin)/
          IdP       \(directory.issuer)  (built in, loopback only)
          Upstream  http://127.0.0.1:\(upstreamPort)  (shows the identity headers it receives)
          Metrics   http://\(configuration.server.internalListen)/metrics
          CA        \(workspace.certificatesFolder)/ca.pem  (curl --cacert \(workspace.certificatesFolder)/ca.pem …)
          HSTS      off (development on localhost)

          Console   \(configuration.server.publicURL.origin)/_portcullis/console/
          Admin API \(configuration.server.publicURL.origin)/_portcullis/api/v1/me  (super admin: \(superAdmin ?? "none"))

          Store     \(workspace.storePath)  (deleted on exit)
          Config    \(workspace.runConfigPath)  (\(workspace.configPath) with this store; deleted on exit)
          CLI       give it that config, e.g.  portcullis sessions list \(example) --config \(workspace.runConfigPath)

          Sign in as any of these (from \(workspace.usersPath); all \(directory.users.count) are teammates already):
        \(users)

          Ctrl-C stops everything.

        """
    }
}
