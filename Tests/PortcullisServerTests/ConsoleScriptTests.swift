import Foundation
import NIOHTTP1
import PortcullisTestSupport
import Testing

extension ServerTests {
/// The console's script is a file of its own (`Sources/PortcullisControlPlane/Console/app.js`),
/// compiled into the binary and served as it is; it is checked like code.
@Suite("Console script")
struct ConsoleScriptTests {
    static let file = FixturePaths.repositoryRoot + "/Sources/PortcullisControlPlane/Console/app.js"

    @Test("the gateway serves app.js byte for byte as the file holds it")
    func servedAsTheFile() async throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.file))
        let text = try #require(String(data: bytes, encoding: .utf8), "app.js is UTF-8")
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let served = try await browser.request(harness.url("/_portcullis/console/app.js"))
        #expect(served.status == .ok)
        #expect(served.body == text)
        #expect(served.body.utf8.count == bytes.count)
    }

    @Test("app.js parses (node --check), and scripts/test runs that check with swift-format's")
    func checked() throws {
        let lint = try String(contentsOfFile: FixturePaths.repositoryRoot + "/scripts/lint", encoding: .utf8)
        #expect(lint.contains("node --check Sources/PortcullisControlPlane/Console/app.js"))
        #expect(lint.contains("swift format lint --strict"))
        #expect(lint.contains("--configuration .swift-format"))
        let test = try String(contentsOfFile: FixturePaths.repositoryRoot + "/scripts/test", encoding: .utf8)
        #expect(test.contains("\nscripts/lint\n"))
        let node = ["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let installed = try #require(node, "node is not installed (scripts/setup-debian --tests installs it)")
        let result = try Subprocess.run([installed, "--check", Self.file])
        #expect(result.status == 0, "\(result.output)")
    }
}
}
