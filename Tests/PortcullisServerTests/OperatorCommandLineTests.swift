import Crypto
import Foundation
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
/// Issue 28, item 5: the real `portcullis` binary as an operator uses it on a host.
@Suite("Command line as an operator uses it")
struct OperatorCommandLineTests {
    static func portcullis(_ arguments: [String]) async throws -> CommandLineTests.Run {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        return try await CommandLineTests.portcullis(arguments)
    }

    /// Runs the binary with `variables` removed from its environment.
    static func portcullis(_ arguments: [String], without variables: [String]) async throws -> CommandLineTests.Run {
        let done = try await ChildProcess.run(
            ["/usr/bin/env"] + variables.flatMap { ["-u", $0] } + [DurabilityTests.binary] + arguments, timeout: .seconds(30), separatingErrors: true
        )
        return CommandLineTests.Run(status: done.status, output: done.output, error: done.errors)
    }

    @Test("--version prints the version, the commit the binary was built from and the day it was built")
    func version() async throws {
        let run = try await Self.portcullis(["--version"])
        #expect(run.status == 0, "\(run.error)")
        let line = run.output.trimmingCharacters(in: .newlines)
        #expect(!line.contains("\n"), "one line: \(run.output)")
        let pattern = #/^portcullis (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7}|unknown), built (\d{4}-\d{2}-\d{2}|unknown)\)$/#
        let match = try #require(line.wholeMatch(of: pattern), "\(run.output)")
        // The build's own commit and day, not words written in the source.
        let head = try await ChildProcess.run(["git", "-C", FixturePaths.repositoryRoot, "rev-parse", "--short=7", "HEAD"])
        if head.status == 0 {
            #expect(String(match.2) == head.output.trimmingCharacters(in: .whitespacesAndNewlines), "built from another commit? \(line)")
        }
        let built = try FileManager.default.attributesOfItem(atPath: DurabilityTests.binary)[.modificationDate] as? Date ?? Date()
        #expect(String(match.3) == String(built.formatted(.iso8601).prefix(10)), "\(line)")
    }

    @Test("the build-info script says unknown outside a git checkout and never fails")
    func buildInfoWithoutGit() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-nogit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = FixturePaths.repositoryRoot + "/Plugins/BuildInfo/build-info.sh"
        let output = folder + "/out/BuildInfo.swift"
        // A tarball unpacked in a folder of its own, and with no git on the PATH at all.
        for environment in [["PATH": "/usr/bin:/bin"], ["PATH": folder]] {
            let done = try await ChildProcess.run(["/bin/sh", script, folder, output], environment: environment)
            #expect(done.status == 0, "\(done.output)")
            let text = try String(contentsOfFile: output, encoding: .utf8)
            #expect(text.contains(#"static let commit = "unknown""#), "\(text)")
        }
    }

    @Test("sessions list --json prints one JSON array: [] for a user with no session")
    func sessionsListJSON() async throws {
        let (folder, config, _) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config])
        #expect(made.status == 0, "\(made.error)")
        let listed = try await Self.portcullis(["sessions", "list", "root@example.com", "--json", "--config", config])
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output == "[]\n", "\(listed.output)")
        let parsed = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [Any]
        #expect(parsed?.isEmpty == true)
    }

    @Test("ip-check --user without --route is a usage error that names --route")
    func ipCheckUserNeedsRoute() async throws {
        let (folder, config, store) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try await Self.portcullis(["ip-check", "203.0.113.7", "--user", "grace@example.com", "--config", config])
        #expect(run.status == 64, "argument-parser's usage error status: \(run.status) \(run.output) \(run.error)")
        #expect(run.output.isEmpty, "no answer for the network policy alone: \(run.output)")
        #expect(run.error.contains("--user needs --route"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test("the audit actor of a command-line change is the account name when $USER is unset or empty, never empty")
    func auditActorWithoutUser() async throws {
        let (folder, config, store) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let account = try #require(Self.accountName())
        let made = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config], without: ["USER", "SUDO_USER"])
        #expect(made.status == 0, "\(made.error)")
        let done = try await ChildProcess.run(
            ["/usr/bin/env", "-u", "SUDO_USER", "USER=", DurabilityTests.binary, "admin", "bootstrap", "--super-admin", "grace@example.com", "--force", "--config", config],
            separatingErrors: true
        )
        #expect(done.status == 0, "\(done.errors)")
        let opened = try SQLiteStore(path: store)
        let actors = try await opened.auditLog().map(\.actor)
        #expect(actors == ["cli:\(account)", "cli:\(account)"], "\(actors)")
    }

    static func accountName(_ uid: uid_t = geteuid()) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// The service user's uid in these tests (`nobody` on Debian).
    static let serviceUID: uid_t = 65_534

    @Test(
        "run as root, commands on a store that belongs to the service user are refused and make no file",
        .enabled(if: geteuid() == 0, "needs root to give the store to another account")
    )
    func storeOfAnotherAccount() async throws {
        let (folder, config, store) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config]).status == 0)
        let sidecars = ["-wal", "-shm", "-journal"].map { store + $0 }
        for file in sidecars { try? FileManager.default.removeItem(atPath: file) }
        // The store as the service made it: the file and its folder are the service user's.
        #expect(chown(store, Self.serviceUID, Self.serviceUID) == 0)
        #expect(chown(folder + "/var", Self.serviceUID, Self.serviceUID) == 0)
        let owner = Self.accountName(Self.serviceUID) ?? "'#\(Self.serviceUID)'"
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        for command in [
            ["admin", "bootstrap", "--super-admin", "grace@example.com", "--force"], ["sessions", "revoke", "root@example.com"],
            ["groups", "map", "Research", "--source", "oidc", "--primary", "admin"], ["sessions", "list", "root@example.com"],
            ["audit", "verify"], ["audit", "export"], ["ip-check", "127.0.0.1"],
        ] {
            let run = try await Self.portcullis(command + ["--config", config])
            let name = command.prefix(2).joined(separator: " ")
            #expect(run.status == 2, "\(name): \(run.output) \(run.error)")
            #expect(run.output.isEmpty, "\(name) printed \(run.output)")
            #expect(run.error.contains("the store \(store) belongs to \(owner)"), "\(name): \(run.error)")
            let again = (["sudo", "-u", owner, "portcullis"] + command + ["--config", config]).joined(separator: " ")
            #expect(run.error.contains("Run as \(owner): \(again)"), "\(name): \(run.error)")
            for file in sidecars {
                #expect(!FileManager.default.fileExists(atPath: file), "\(name) made \(file)")
            }
            #expect((try? FileManager.default.attributesOfItem(atPath: store)[.ownerAccountID] as? NSNumber)?.uint32Value == Self.serviceUID)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before, "the store was written")
        let entries = try await SQLiteStore(path: store).auditLog()
        #expect(entries.count == 1)
    }

    @Test(
        "run as root, admin bootstrap does not make a new store in the service user's folder",
        .enabled(if: geteuid() == 0, "needs root to give the folder to another account")
    )
    func newStoreInAnotherAccountsFolder() async throws {
        let (folder, config, store) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/var", withIntermediateDirectories: true)
        #expect(chown(folder + "/var", Self.serviceUID, Self.serviceUID) == 0)
        let run = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config])
        let owner = Self.accountName(Self.serviceUID) ?? "'#\(Self.serviceUID)'"
        #expect(run.status == 2, "\(run.output) \(run.error)")
        #expect(run.error.contains("does not exist yet and its folder \(folder)/var belongs to \(owner)"), "\(run.error)")
        #expect(run.error.contains("sudo -u \(owner) portcullis admin bootstrap"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: store))
        // In a folder of its own (root's here), the first step on a new host makes the store.
        #expect(chown(folder + "/var", 0, 0) == 0)
        let made = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config])
        #expect(made.status == 0, "\(made.error)")
        #expect(FileManager.default.fileExists(atPath: store))
    }

    @Test("audit export writes RFC 3339 times and no empty hash; each line still hashes to the next one's previous_hash")
    func auditExportTimes() async throws {
        let (folder, config, _) = try CommandLineTests.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config]).status == 0)
        #expect(try await Self.portcullis(["admin", "bootstrap", "--super-admin", "grace@example.com", "--force", "--config", config]).status == 0)
        let exported = try await Self.portcullis(["audit", "export", "--config", config])
        #expect(exported.status == 0, "\(exported.error)")
        let lines = exported.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let rfc3339 = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/#
        for line in lines {
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            let at = try #require(entry["at"] as? String, "at is not text: \(line)")
            #expect(at.wholeMatch(of: rfc3339) != nil, "\(at)")
            #expect(abs((try Date.ISO8601FormatStyle(includingFractionalSeconds: at.contains(".")).parse(at)).timeIntervalSinceNow) < 120)
            #expect(entry["hash"] == nil || (entry["hash"] as? String)?.count == 64, "an empty hash: \(line)")
        }
        let verified = try await Self.portcullis(["audit", "verify", "--config", config])
        #expect(verified.status == 0, "\(verified.error)")
        let digest = { (line: String) in SHA256.hash(data: Data(line.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(lines[1].contains("\"previous_hash\":\"\(digest(lines[0]))\""))
        #expect(verified.output.contains("head \(digest(lines[1]))"), "\(verified.output)")
    }
}
}
