import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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
    /// - Parameter claimsOnlyInUserInfo: run it through `Tests/Interop/oidc_provider_userinfo_only.py`,
    ///   so that the ID token carries the subject only and every other claim comes from UserInfo.
    static func withRunning<T>(
        users: [[String: Any]], claimsOnlyInUserInfo: Bool = false, _ body: (MockOIDCProvider) async throws -> T
    ) async throws -> T {
        let port = try await TestUpstream.deadPort()
        let program = claimsOnlyInUserInfo
            ? ["python3", FixturePaths.repositoryRoot + "/Tests/Interop/oidc_provider_userinfo_only.py"]
            : ["python3", "-m", "oidc_provider_mock"]
        var arguments = program + ["--port", String(port), "--require-nonce", "true"]
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
