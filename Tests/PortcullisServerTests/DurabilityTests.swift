import Foundation
import NIOCore
import NIOHTTP1
import PortcullisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
@Suite("Durability of the embedded store")
struct DurabilityTests {
    /// The built `portcullis` binary (swift build --build-tests builds it).
    static let binary = FixturePaths.repositoryRoot + "/.build/debug/portcullis"

    /// `portcullis serve` on a configuration, its output in `log`.
    static func serve(config: String, log: String) throws -> ChildProcess {
        try ChildProcess.start([binary, "serve", "--config", config, "--log-level", "info"], output: log)
    }

    @Test("sessions and users survive kill -9 right after an acknowledged login, and a restart")
    func killNine() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first: swift build --build-tests")
        // The IdP and the upstream run in the test; the gateway is the real binary.
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let internalPort = try await TestUpstream.deadPort()
        // Same IdP, same client registration: the binary takes the harness's port, so the
        // in-process gateway must not hold it. It stops first.
        await harness.stopGatewayOnly()
        var yaml = try String(contentsOfFile: harness.configurationPath, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "internal_listen: \"127.0.0.1:0\"", with: "internal_listen: \"127.0.0.1:\(internalPort)\"")
        let config = harness.certificates.folder + "/serve.yaml"
        try harness.certificates.write(yaml, "serve.yaml")
        let log = harness.certificates.folder + "/serve.log"

        let first = try Self.serve(config: config, log: log)
        do {
            do {
                try await SSOHarness.waitForPort(harness.gatewayPort, attempts: 1_000)
            } catch {
                let output = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(3_000) ?? ""
                Issue.record("portcullis serve did not start (running: \(first.isRunning)): \(output)")
                throw error
            }
            let browser = try harness.browser()
            defer { Task { await browser.shutdown() } }
            let page = try await browser.signIn(at: harness.url("/echo"), email: "ada@example.com")
            #expect(page.status == .ok, "\(page.body.prefix(200)) — log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2_000) ?? "")")
            // The login was acknowledged (the cookie arrived). Now crash, hard.
            let status = await first.kill9()
            #expect(status == 128 + SIGKILL)

            try await ChildProcess.withRunning([Self.binary, "serve", "--config", config, "--log-level", "info"], output: log + ".2") { second in
                try await SSOHarness.waitForPort(harness.gatewayPort, attempts: 1_000)
                let again = try await browser.request(harness.url("/echo"), accept: "application/json")
                #expect(again.status == .ok)
                #expect(again.body.contains("ada@example.com"))
                // Served by the second process, the only one alive.
                #expect(second.isRunning)
            }
        } catch {
            await first.stop()
            throw error
        }
    }
}
}
