import Foundation
import NIOCore
import NIOPosix
import Testing

extension ServerTests {
@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("SIGTERM lets an in-flight request finish and stops accepting")
    func drainsInFlight() async throws {
        let gateway = try await TestGateway.start()
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))
        await gateway.triggerShutdown()
        // The in-flight request completes…
        let response = await client.wait(timeout: .seconds(10)) { $0.contains("bodySHA256") }
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(response.contains("/slow?ms=1500"))
        // …then the connection is closed and the service stops.
        #expect(await client.waitForClose(timeout: .seconds(5)))
        try await gateway.waitForShutdown()
        await #expect(throws: (any Error).self) {
            _ = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        }
        await gateway.stop()
    }

    @Test("requests still running after the grace period are cut off")
    func gracePeriod() async throws {
        let gateway = try await TestGateway.start(shutdownGrace: "1s")
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        await gateway.triggerShutdown()
        try await gateway.waitForShutdown()
        // Without the grace period this would wait for ever on /hang.
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(await client.waitForClose(timeout: .seconds(5)))
        await gateway.stop()
    }
}
}
