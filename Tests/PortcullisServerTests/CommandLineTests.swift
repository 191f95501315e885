import Crypto
import Foundation
import GRDB
import PortcullisCore
import PortcullisServer
import PortcullisTestSupport
import Testing
import PortcullisDataPath
import PortcullisControlPlane
import PortcullisDevelopment

extension ServerTests {
/// The real `portcullis` binary working on the store of a running gateway.
@Suite("Command line: admin, sessions, audit")
struct CommandLineTests {
    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    static func portcullis(_ arguments: [String]) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = arguments
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        for _ in 0..<3_000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { process.terminate() }
        return Run(
            status: process.terminationStatus,
            output: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            error: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    @Test("bootstrap, list and revoke sessions (the running gateway notices), export and verify the audit log")
    func commands() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let config = harness.configurationPath

        let made = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config])
        #expect(made.status == 0, "\(made.error)")
        #expect(made.output.contains("root@example.com is a super admin"))
        let again = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "grace@example.com", "--config", config])
        #expect(again.status == 1)
        #expect(again.error.contains("a super admin already exists (user root@example.com)"))
        let forced = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "grace@example.com", "--force", "--config", config])
        #expect(forced.status == 0, "\(forced.error)")
        let badEmail = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "not an email", "--config", config])
        #expect(badEmail.status != 0)
        #expect(badEmail.error.contains("must be an email address"))

        // Sam signs in through the running gateway; the CLI sees the session.
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let listed = try await Self.portcullis(["sessions", "list", "sam@example.com", "--json", "--config", config])
        #expect(listed.status == 0, "\(listed.error)")
        let lines = listed.output.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"ip\":\"127.0.0.1\"") == true)
        #expect(try await Self.portcullis(["sessions", "list", "nobody@example.com", "--config", config]).status == 1)

        // Revoked from the host: the running gateway refuses the old cookie within a second.
        #expect(try await sam.request(harness.url("/echo")).status == .ok)
        let revoked = try await Self.portcullis(["sessions", "revoke", "sam@example.com", "--config", config])
        #expect(revoked.status == 0, "\(revoked.error)")
        #expect(revoked.output.contains("revoked 1 session(s)"))
        var refusedWithin: Duration?
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(3) {
            let page = try await sam.request(harness.url("/echo"))
            if page.status == .found, page.location?.contains("/_portcullis/login") == true {
                refusedWithin = ContinuousClock.now - start
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = try #require(refusedWithin, "the running gateway never noticed the revocation")
        #expect(elapsed < .seconds(2))

        // The audit log: bootstrap twice (one forced) and the sign-out, chained.
        let verified = try await Self.portcullis(["audit", "verify", "--config", config])
        #expect(verified.status == 0, "\(verified.error)")
        #expect(verified.output.contains("OK: 3 entries"))
        let exported = try await Self.portcullis(["audit", "export", "--config", config])
        let entries = exported.output.split(separator: "\n").map(String.init)
        #expect(entries.count == 3)
        #expect(entries[1].contains("\"forced\":true"))
        #expect(entries[2].contains("cli:"))
        // Offline check: each line's SHA-256 is the next line's previous_hash.
        for (line, next) in zip(entries, entries.dropFirst()) {
            let digest = SHA256.hash(data: Data(line.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(next.contains("\"previous_hash\":\"\(digest)\""))
        }

        // Edit a row in the file: verification fails with exit status 1.
        let queue = try DatabaseQueue(path: harness.sqlite.path)
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 2")
        }
        try queue.close()
        let tampered = try await Self.portcullis(["audit", "verify", "--config", config])
        #expect(tampered.status == 1)
        #expect(tampered.error.contains("TAMPERED"))

        // A bad configuration: exit 2 and the problem.
        let missing = try await Self.portcullis(["audit", "verify", "--config", "/nonexistent/portcullis.yaml"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("/nonexistent/portcullis.yaml"))
    }
}
}
