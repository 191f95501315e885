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

    @Test("scim2-client discovers the service and provisions users and groups")
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
        #expect((summary["discovered"] as? [String]) == ["Group", "User"])
    }
}
}
