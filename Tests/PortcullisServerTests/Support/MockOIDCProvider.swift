import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PortcullisTestSupport

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

    /// - Parameter claimsOnlyInUserInfo: run it through `Tests/Interop/oidc_provider_userinfo_only.py`,
    ///   so that the ID token carries the subject only and every other claim comes from UserInfo.
    static func start(users: [[String: Any]], claimsOnlyInUserInfo: Bool = false) async throws -> MockOIDCProvider {
        let port = try await TestUpstream.deadPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let program = claimsOnlyInUserInfo
            ? ["python3", FixturePaths.repositoryRoot + "/Tests/Interop/oidc_provider_userinfo_only.py"]
            : ["python3", "-m", "oidc_provider_mock"]
        var arguments = program + ["--port", String(port), "--require-nonce", "true"]
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

    /// Changes a user's claims at the provider (`PUT /users/{sub}`).
    func setClaims(_ claims: [String: Any], of subject: String) async throws {
        try await send("PUT", "/users/\(subject)", body: try JSONSerialization.data(withJSONObject: claims))
    }

    /// Revokes the user's access and refresh tokens: a refresh now answers `invalid_grant`.
    func revokeTokens(of subject: String) async throws {
        try await send("POST", "/users/\(subject)/revoke-tokens", body: nil)
    }

    private func send(_ method: String, _ path: String, body: Data?) async throws {
        guard let url = URL(string: issuer + path) else { throw TestFailure("bad URL \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            throw TestFailure("\(method) \(path) answered \(String(describing: response))")
        }
    }
}
