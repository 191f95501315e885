import Foundation

/// A third-party OpenID Provider from PyPI (`oidc-provider-mock`), started by the test as a
/// separate process on a loopback port, to show that the relying party works with more than
/// our own development IdP.
final class MockOIDCProvider: Sendable {
    let process: Process
    let port: Int
    var issuer: String { "http://127.0.0.1:\(port)" }

    static var isInstalled: Bool {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import oidc_provider_mock"]
        check.standardError = FileHandle.nullDevice
        check.standardOutput = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        while check.isRunning { usleep(10_000) }
        return check.terminationStatus == 0
    }

    static func start(users: [[String: Any]]) async throws -> MockOIDCProvider {
        let port = try await TestUpstream.deadPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", "-m", "oidc_provider_mock", "--port", String(port), "--require-nonce", "true"]
        for user in users {
            let data = try JSONSerialization.data(withJSONObject: user)
            arguments += ["--user-claims", String(decoding: data, as: UTF8.self)]
        }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let provider = MockOIDCProvider(process: process, port: port)
        do {
            try await SSOHarness.waitForPort(port, attempts: 1_000)
        } catch {
            await provider.stop()
            throw TestFailure("oidc-provider-mock did not start on \(port)")
        }
        return provider
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Stops the process. (Not `waitUntilExit`, which spins on Linux.)
    func stop() async {
        process.terminate()
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
