import Foundation
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
/// `conf/portcullis.service` and the readiness protocol it relies on (`Type=notify`).
@Suite("systemd: the unit file and sd_notify")
struct SystemdTests {
    static let unitFile = FixturePaths.repositoryRoot + "/conf/portcullis.service"

    /// The unit's `Key=value` lines, by key (repeated keys keep every value).
    static func directives() throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for line in try String(contentsOfFile: unitFile, encoding: .utf8).split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.hasPrefix("#"), !text.hasPrefix("["), let equals = text.firstIndex(of: "=") else { continue }
            result[String(text[..<equals]), default: []].append(String(text[text.index(after: equals)...]))
        }
        return result
    }

    @Test("the unit is Type=notify, reloads with SIGHUP, runs sandboxed as its own user with only CAP_NET_BIND_SERVICE")
    func unitDirectives() throws {
        let unit = try Self.directives()
        #expect(unit["Type"] == ["notify"])
        #expect(unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"])
        #expect(unit["ExecStart"]?.first?.contains("portcullis serve --config /etc/portcullis/portcullis.yaml") == true)
        #expect(unit["User"] == ["portcullis"] || unit["DynamicUser"] == ["yes"])
        #expect(unit["ProtectSystem"] == ["strict"])
        #expect(unit["NoNewPrivileges"] == ["yes"])
        #expect(unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"])
        #expect(unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"])
        #expect(unit["StateDirectory"] == ["portcullis"])
    }

    @Test("systemd-analyze finds nothing wrong with the unit and rates its exposure 2.0 or better")
    func unitVerifies() throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: analyze), "systemd is not installed (scripts/setup-debian --tests installs it)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // verify wants the commands to exist: the built binary stands in for the installed one.
        let unit = try String(contentsOfFile: Self.unitFile, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/portcullis", with: DurabilityTests.binary)
        let path = folder + "/portcullis.service"
        try unit.write(toFile: path, atomically: true, encoding: .utf8)
        let verified = try Subprocess.run([analyze, "verify", path])
        #expect(verified.status == 0)
        #expect(verified.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(verified.output)")
        let security = try Subprocess.run([analyze, "security", "--offline=yes", "--threshold=20", path])
        #expect(security.status == 0, "\(security.output.suffix(2_000))")
    }

    @Test("the notifier sends one datagram per state to a socket path and to an abstract socket")
    func notifierMessages() async throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path]))
        #expect(notifier.ready(status: "serving"))
        #expect(await socket.next() == "READY=1\nSTATUS=serving\n")
        #expect(notifier.reloading())
        let reloading = try #require(await socket.next())
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(notifier.stopping())
        #expect(await socket.next() == "STOPPING=1\n")

        let abstract = try NotifySocket(abstract: true)
        defer { abstract.close() }
        let abstractNotifier = try #require(SystemdNotifier(socketPath: abstract.path))
        #expect(abstract.path.hasPrefix("@"))
        #expect(abstractNotifier.ready())
        #expect(await abstract.next() == "READY=1\n")

        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)
        // Nobody listening: answered, never thrown or blocking.
        #expect(SystemdNotifier(socketPath: socket.path + "-gone")?.ready() == false)
    }

    @Test("portcullis serve under NOTIFY_SOCKET: READY=1 once serving, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM")
    func serveNotifies() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        try certificates.issue("server", dnsNames: ["localhost"], ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1)])
        let port = try await TestUpstream.deadPort()
        let internalPort = try await TestUpstream.deadPort()
        try certificates.write("""
            server:
              listen: "127.0.0.1:\(port)"
              public_url: "https://localhost:\(port)"
              internal_listen: "127.0.0.1:\(internalPort)"
              shutdown_grace: 2s
              tls:
                certificates:
                  - { cert_file: server.pem, key_file: server-key.pem }
            store:
              sqlite: { path: store.sqlite }
            routes:
              - { name: public, path: /, upstream: "http://127.0.0.1:9", require: public }
            """, "portcullis.yaml")
        let socket = try NotifySocket()
        defer { socket.close() }
        let log = certificates.folder + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = ["serve", "--config", certificates.folder + "/portcullis.yaml"]
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socket.path]) { _, new in new }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func output() -> String { String(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(2_000)) }

        let ready = await socket.next(timeout: .seconds(30))
        #expect(ready?.hasPrefix("READY=1\nSTATUS=serving on ") == true, "\(ready ?? "nothing") — \(output())")
        // Ready means serving: the listener accepts connections.
        #expect(await SSOHarness.isListening(port))

        kill(process.processIdentifier, SIGHUP)
        let reloading = await socket.next()
        #expect(reloading?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(reloading ?? "nothing") — \(output())")
        #expect(await socket.next() == "READY=1\n")

        kill(process.processIdentifier, SIGTERM)
        #expect(await socket.next() == "STOPPING=1\n", "\(output())")
        for _ in 0..<1_000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "\(output())")
    }
}
}
