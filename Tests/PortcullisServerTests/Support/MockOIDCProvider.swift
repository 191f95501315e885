import Foundation
import PortcullisTestSupport

/// A third-party OpenID Provider from PyPI (`oidc-provider-mock`), started by the test as a
/// separate process on a loopback port, to show that the relying party works with more than
/// our own development IdP. It ignores SIGTERM: stopping it takes SIGKILL after a short grace.
final class MockOIDCProvider: Sendable {
    let process: ChildProcess
    let port: Int
    var issuer: String { "http://127.0.0.1:\(port)" }

    static var isInstalled: Bool {
        (try? Subprocess.run(["python3", "-c", "import oidc_provider_mock"]).status) == 0
    }

    /// Starts the provider, runs `body` and stops the provider however `body` ends.
    static func withRunning<T>(users: [[String: Any]], _ body: (MockOIDCProvider) async throws -> T) async throws -> T {
        let port = try await TestUpstream.deadPort()
        var arguments = ["python3", "-m", "oidc_provider_mock", "--port", String(port), "--require-nonce", "true"]
        for user in users {
            let data = try JSONSerialization.data(withJSONObject: user)
            arguments += ["--user-claims", String(decoding: data, as: UTF8.self)]
        }
        return try await ChildProcess.withRunning(arguments, grace: .seconds(1)) { process in
            do {
                try await SSOHarness.waitForPort(port, attempts: 1_000)
            } catch {
                throw TestFailure("oidc-provider-mock did not start on \(port)")
            }
            return try await body(MockOIDCProvider(process: process, port: port))
        }
    }

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }
}
