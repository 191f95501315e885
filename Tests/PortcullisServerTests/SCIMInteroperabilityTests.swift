import Foundation
import PortcullisTestSupport
import Testing

extension ServerTests {
/// An independent SCIM client (scim2-client, from PyPI) against the gateway.
@Suite("SCIM interoperability")
struct SCIMInteroperabilityTests {
    static var isInstalled: Bool {
        (try? Subprocess.run(["python3", "-c", "import scim2_client, httpx2"]).status) == 0
    }

    @Test("scim2-client discovers the service and provisions users (with the enterprise extension) and groups, PATCH and .search included")
    func scim2Client() async throws {
        try #require(Self.isInstalled, "pip install 'scim2-client[httpx2]' (scripts/setup-debian does)")
        let harness = try await SSOHarness.start(scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let script = FixturePaths.repositoryRoot + "/Tests/Interop/scim2_client_check.py"
        let arguments = ["python3", script, harness.url("/_portcullis/scim/v2"), SCIMTests.token, harness.certificates.folder + "/ca.pem"]
        let result = try await Task.detached { try Subprocess.run(arguments) }.value
        #expect(result.status == 0, "\(result.output)")
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect(summary["deleted"] as? Bool == true, "\(result.output)")
        #expect(summary["deactivated"] as? Bool == true)
        #expect(summary["enterprise"] as? Bool == true && summary["searched"] as? Bool == true && summary["patched"] as? Bool == true)
        #expect((summary["discovered"] as? [String]) == ["Group", "User"])
    }

    static var isTesterInstalled: Bool {
        (try? Subprocess.run(["python3", "-c", "import scim2_tester, httpx2"]).status) == 0
    }

    /// scim2-tester checks a server against RFC 7643/7644 with values generated from the
    /// schemas the server publishes, so every declared attribute must round-trip.
    @Test("scim2-tester (the python-scim compliance checker) finds no error")
    func complianceChecker() async throws {
        try #require(Self.isTesterInstalled, "pip install scim2-tester (scripts/setup-debian --tests does)")
        let harness = try await SSOHarness.start(scimToken: SCIMTests.token)
        defer { Task { await harness.stop() } }
        let script = FixturePaths.repositoryRoot + "/Tests/Interop/scim2_tester_check.py"
        let arguments = ["python3", script, harness.url("/_portcullis/scim/v2"), SCIMTests.token, harness.certificates.folder + "/ca.pem"]
        let result = try await Task.detached { try Subprocess.run(arguments) }.value
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect(result.status == 0, "\(result.output.suffix(4_000))")
        #expect((summary["failures"] as? [Any])?.isEmpty == true, "\(summary["failures"] ?? result.output.suffix(4_000))")
        #expect((summary["passed"] as? Int ?? 0) > 50, "\(line)")
    }
}
}
