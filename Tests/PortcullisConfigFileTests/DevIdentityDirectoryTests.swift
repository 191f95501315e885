import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisTestSupport
import Testing

@Suite("Development users file")
struct DevIdentityDirectoryTests {
    @Test("the shipped conf/dev-users.yaml is valid")
    func shipped() throws {
        let path = FixturePaths.repositoryRoot + "/conf/dev-users.yaml"
        let root = try ConfigurationFile.parse(text: try ConfigurationFile.read(path: path), file: path)
        let directory = try DevIdentityDirectory.decode(root, file: path, environment: .documentOnly).get()
        #expect(directory.issuer == "https://localhost:9443")
        #expect(directory.users.count >= 3)
        #expect(directory.users.first { $0.email == "ada@example.com" }?.groups == ["IT-Admins", "Content-Team"])
        #expect(directory.client.redirectURIs == ["https://localhost:8443/_portcullis/callback"])
    }

    @Test("problems are reported with paths; non-loopback listeners are refused")
    func problems() throws {
        let yaml = """
        issuer: "https://localhost:9443"
        listen: "0.0.0.0:9443"
        client: { client_id: portcullis, client_secret_env: NOPE_NOT_SET, redirect_uris: [] }
        users:
          - { email: not-an-email, name: X, password: p }
          - { email: b@example.com, password: p, color: blue }
        """
        let root = try ConfigurationFile.parse(text: yaml, file: "dev-users.yaml")
        guard case .failure(let error) = DevIdentityDirectory.decode(root, file: "dev-users.yaml", environment: .system) else {
            Issue.record("accepted a bad file")
            return
        }
        let paths = Set(error.problems.map(\.path))
        #expect(paths.isSuperset(of: ["listen", "client.client_secret_env", "users[0].email", "users[1]", "users[1].color"]), "\(error)")
    }
}
