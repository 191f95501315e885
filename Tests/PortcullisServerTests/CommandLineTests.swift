import Crypto
import Foundation
import GRDB
import NIOHTTP1
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// The real `portcullis` binary working on the store of a running gateway.
@Suite("Command line: admin, sessions, audit")
struct CommandLineTests {
    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    static func portcullis(_ arguments: [String], in directory: String? = nil) async throws -> Run {
        let done = try await ChildProcess.run([DurabilityTests.binary] + arguments, directory: directory, timeout: .seconds(30), separatingErrors: true)
        return Run(status: done.status, output: done.output, error: done.errors)
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
        let sessions = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]], "\(listed.output)")
        #expect(sessions.count == 1)
        #expect(sessions.first?["ip"] as? String == "127.0.0.1")
        #expect(try await Self.portcullis(["sessions", "list", "nobody@example.com", "--config", config]).status == 1)

        // Revoked from the host: the running gateway refuses the old cookie within a second.
        #expect(try await sam.request(harness.url("/echo")).status == .ok)
        let revoked = try await Self.portcullis(["sessions", "revoke", "sam@example.com", "--config", config])
        #expect(revoked.status == 0, "\(revoked.error)")
        #expect(revoked.output.contains("revoked 1 session and 0 API tokens"))
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

    /// Issue 21, item 9: the command line shows and sets the source of membership a group
    /// mapping is for, and a mapping for SCIM gives nothing to a user whose groups claim names
    /// the group.
    @Test("groups map takes the source (scim or oidc), groups list shows it; the rails hold as in the console")
    func groupMappings() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let config = harness.configurationPath
        #expect(try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config]).status == 0)
        // Grace is in Research through her groups claim.
        let (grace, _) = try await harness.signedIn("grace@example.com")
        defer { Task { await grace.shutdown() } }
        let graceID = try #require(try await harness.store.user(email: "grace@example.com")?.id)
        let store = harness.store
        let graceRoles = { @Sendable () async throws -> Set<SecondaryRole>? in
            try await store.userIdentity(userID: graceID)?.effectiveRole.secondary
        }

        let unsourced = try await Self.portcullis(["groups", "map", "Research", "--secondary", "answers_moderator", "--config", config])
        #expect(unsourced.status != 0)
        #expect(unsourced.error.contains("--source"), "\(unsourced.error)")
        let any = try await Self.portcullis(["groups", "map", "Research", "--source", "any", "--secondary", "answers_moderator", "--config", config])
        #expect(any.status != 0)

        // For SCIM's members: Grace's claim gets her nothing.
        let scim = try await Self.portcullis(["groups", "map", "Research", "--source", "scim", "--secondary", "answers_moderator", "--config", config])
        #expect(scim.status == 0, "\(scim.error)")
        #expect(scim.output.contains("Research  members 1 (SCIM 0, sign-in claims 1)  SCIM: answers_moderator"), "\(scim.output)")
        #expect(try await graceRoles() == [])
        // For the claim: she gets the role.
        let oidc = try await Self.portcullis(["groups", "map", "Research", "--source", "oidc", "--secondary", "answers_moderator", "--config", config])
        #expect(oidc.status == 0, "\(oidc.error)")
        #expect(try await graceRoles() == [.answersModerator])

        let listed = try await Self.portcullis(["groups", "list", "--json", "--config", config])
        #expect(listed.status == 0, "\(listed.error)")
        let line = try #require(listed.output.split(separator: "\n").first { $0.contains("\"name\":\"Research\"") })
        let research = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let mappings = try #require(research["mappings"] as? [[String: Any]])
        #expect(mappings.map { $0["source"] as? String } == ["scim", "oidc"], "\(line)")
        #expect(mappings.allSatisfy { $0["secondary"] as? [String] == ["answers_moderator"] && $0["review"] as? Bool == false })
        #expect(research["members_by_source"] as? [String: Int] == ["scim": 0, "oidc": 1], "\(line)")

        // Grace is the only person holding answers_moderator: the claim mapping cannot go
        // (the SCIM mapping of the empty group holds nothing); the SCIM one can.
        let last = try await Self.portcullis(["groups", "map", "Research", "--source", "oidc", "--config", config])
        #expect(last.status == 1)
        #expect(last.error.contains("last_role_holder"), "\(last.error)")
        #expect(try await graceRoles() == [.answersModerator])
        #expect(try await Self.portcullis(["groups", "map", "Research", "--source", "scim", "--config", config]).status == 0)
        let text = try await Self.portcullis(["groups", "list", "--config", config])
        #expect(text.output.contains("Research  members 1 (SCIM 0, sign-in claims 1)  sign-in claims: answers_moderator\n"), "\(text.output)")
        let entries = try await harness.store.auditEntries(AuditQuery(action: .groupRolesChanged))
        #expect(entries.count == 3)
        #expect(entries.allSatisfy { $0.actor.hasPrefix("cli:") })
    }

    /// A folder with a small, valid configuration (every file it names exists), its store not
    /// made yet; `extra` is appended to the YAML.
    static func configurationFolder(extra: String = "") throws -> (folder: String, config: String, store: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/conf", withIntermediateDirectories: true)
        for file in ["server.pem", "server-key.pem", "client-secret"] {
            _ = FileManager.default.createFile(atPath: folder + "/conf/" + file, contents: Data("x".utf8), attributes: [.posixPermissions: 0o600])
        }
        let store = folder + "/var/portcullis.sqlite"
        let yaml = """
            server:
              listen: "127.0.0.1:8443"
              public_url: "https://localhost:8443"
              tls:
                certificates:
                  - { cert_file: server.pem, key_file: server-key.pem }
            identity:
              oidc:
                issuer: "https://idp.example.com"
                client_id: portcullis
                client_secret_file: client-secret
            store:
              sqlite: { path: "\(store)" }
            routes:
              - { name: app, path: /, upstream: "http://127.0.0.1:8080", require: authenticated }
            \(extra)
            """
        let config = folder + "/conf/portcullis.yaml"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
        return (folder, config, store)
    }

    @Test("audit verify, audit export and sessions list|revoke refuse a store that does not exist, and never create it")
    func missingStore() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let (folder, config, store) = try Self.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for command in [["audit", "verify"], ["audit", "export"], ["sessions", "list", "grace@example.com"], ["sessions", "revoke", "grace@example.com"],
                        ["groups", "list"], ["groups", "map", "Research", "--source", "oidc"]] {
            let run = try await Self.portcullis(command + ["--config", config])
            let name = command.prefix(2).joined(separator: " ")
            #expect(run.status == 2, "\(name): \(run.output) \(run.error)")
            #expect(run.output.isEmpty, "\(name) printed \(run.output)")
            #expect(run.error.hasPrefix("\(name): no store: the file \(store) does not exist (store.sqlite.path in \(config)); nothing was created."),
                    "\(run.error)")
            #expect(run.error.contains("portcullis dev"), "the refusal says where dev's store is")
            #expect(!FileManager.default.fileExists(atPath: store), "\(name) created the store")
            #expect(!FileManager.default.fileExists(atPath: folder + "/var"), "\(name) created the store's folder")
        }
        // `admin bootstrap` is the first step on a new host: it makes the store.
        let made = try await Self.portcullis(["admin", "bootstrap", "--super-admin", "root@example.com", "--config", config])
        #expect(made.status == 0, "\(made.error)")
        #expect(FileManager.default.fileExists(atPath: store))
        let verified = try await Self.portcullis(["audit", "verify", "--config", config])
        #expect(verified.status == 0, "\(verified.error)")
        #expect(verified.output.hasPrefix("OK: 1 entry, chain intact"), "\(verified.output)")
    }

    /// Issue 28 item 8, through the real file system: a secret file as `umask 022` leaves it
    /// (0644) is refused by `check-config`, named with its key path and the chmod that fixes it.
    @Test("check-config refuses a secret file other users can read, and passes once it is 0640")
    func secretFileMode() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let (folder, config, _) = try Self.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let secret = folder + "/conf/client-secret"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        let refused = try await Self.portcullis(["check-config", "--config", config])
        #expect(refused.status == 2)
        #expect(refused.error.contains("identity.oidc.client_secret_file: file \(secret) holds a secret but has mode 0644 (other users can read it)"), "\(refused.error)")
        #expect(refused.error.contains("chmod 0640 \(secret)"), "\(refused.error)")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: secret)
        let passed = try await Self.portcullis(["check-config", "--config", config])
        #expect(passed.status == 0, "\(passed.error)")
    }

    /// Issue 28 item 8: the shipped certbot deploy hook, run as certbot runs it (a lineage
    /// folder in `RENEWED_LINEAGE`), installs the chain 0644 and the key 0640, which
    /// `check-config` accepts, and reloads the gateway through systemctl (recorded here).
    @Test("conf/certbot-deploy-hook installs a renewed certificate with the secret file modes and reloads the gateway")
    func certbotDeployHook() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let (folder, config, _) = try Self.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lineage = folder + "/letsencrypt/live/gateway.example.com", wrappers = folder + "/wrappers", calls = folder + "/calls"
        for made in [lineage, wrappers] { try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true) }
        try "CHAIN\n".write(toFile: lineage + "/fullchain.pem", atomically: true, encoding: .utf8)
        try "KEY\n".write(toFile: lineage + "/privkey.pem", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: lineage + "/privkey.pem")
        try "#!/bin/sh\necho \"systemctl $*\" >>\(calls)\n".write(toFile: wrappers + "/systemctl", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrappers + "/systemctl")
        // As umask 022 leaves them before the hook: the key is refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder + "/conf/server-key.pem")
        #expect(try await Self.portcullis(["check-config", "--config", config]).status == 2)

        let done = try await ChildProcess.run([FixturePaths.repositoryRoot + "/conf/certbot-deploy-hook"], environment: [
            "RENEWED_LINEAGE": lineage, "PORTCULLIS_TLS_DIR": folder + "/conf", "PORTCULLIS_TLS_NAME": "server",
            "PORTCULLIS_OWNER": String(getuid()), "PORTCULLIS_GROUP": String(getgid()),
            "PATH": wrappers + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ])
        #expect(done.status == 0, "\(done.output)")
        func mode(_ name: String) throws -> Int? {
            (try FileManager.default.attributesOfItem(atPath: folder + "/conf/" + name)[.posixPermissions] as? NSNumber)?.intValue
        }
        #expect(try mode("server-key.pem") == 0o640)
        #expect(try mode("server.pem") == 0o644)
        #expect(try String(contentsOfFile: folder + "/conf/server-key.pem", encoding: .utf8) == "KEY\n")
        #expect(try String(contentsOfFile: folder + "/conf/server.pem", encoding: .utf8) == "CHAIN\n")
        #expect(try String(contentsOfFile: calls, encoding: .utf8) == "systemctl reload portcullis\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/conf").filter { $0.hasSuffix(".new") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let checked = try await Self.portcullis(["check-config", "--config", config])
        #expect(checked.status == 0, "\(checked.error)")
    }

    @Test("check-config names the file it checked, and lists problems in the order of the file")
    func checkConfig() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let (folder, config, _) = try Self.configurationFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = try await Self.portcullis(["check-config", "--config", config])
        #expect(good.status == 0, "\(good.error)")
        #expect(good.output == "\(config): OK\n")

        // Sections in an order the validator does not read them in: routes first, server last.
        let bad = folder + "/conf/bad.yaml"
        try Data("""
            routes:
              - { name: app, path: /, upstream: "ftp://127.0.0.1", require: everyone }
            sessions:
              idle_timeout: 8 hours
            identity:
              oidc:
                issuer: "https://idp.example.com"
                client_id: portcullis
                client_secret_env: NOT_SET_ANYWHERE
            network:
              greenlists:
                corp: [{ cidr: "1.2.3", label: bad }]
            server:
              listen: "localhost"
              public_url: "https://localhost:8443"
              tls:
                certificates: [{ cert_file: missing.pem, key_file: server-key.pem }]
              lisen: oops
            """.utf8).write(to: URL(fileURLWithPath: bad))
        let checked = try await Self.portcullis(["check-config", "--config", bad])
        #expect(checked.status == 2)
        #expect(checked.output.isEmpty)
        let lines = checked.error.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("\(bad) has ") == true, "\(checked.error)")
        let positions = lines.dropFirst().compactMap { line -> [Int]? in
            // "  FILE:LINE:COLUMN: key.path: message"
            let rest = line.trimmingCharacters(in: .whitespaces).dropFirst(bad.count + 1)
            let numbers = rest.split(separator: ":").prefix(2).compactMap { Int($0) }
            return numbers.count == 2 ? numbers : nil
        }
        #expect(positions.count == lines.count - 1, "every problem has file:line:column: \(checked.error)")
        #expect(positions.count >= 6, "\(checked.error)")
        #expect(positions == positions.sorted { $0.lexicographicallyPrecedes($1) }, "out of order: \(checked.error)")
    }

    @Test("ip-check --json always gives a location in words, never an empty object; a refusal exits 1")
    func ipCheckJSON() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let (folder, config, _) = try Self.configurationFolder(extra: """
            network:
              greenlists:
                corp: [{ cidr: 198.51.100.0/24, label: office }, { cidr: 127.0.0.0/8, label: loopback }]
              tenant_greenlist: corp
            """)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func check(_ address: String) async throws -> (Int32, [String: Any], String) {
            let run = try await Self.portcullis(["ip-check", address, "--json", "--geoip-database", FixturePaths.testCityDatabase, "--config", config])
            let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] ?? [:]
            return (run.status, object["location"] as? [String: Any] ?? [:], run.output)
        }
        // No GeoIP record and no special range: the location says so, in one line.
        let (refused, unknown, text) = try await check("8.8.8.8")
        #expect(refused == 1, "a refusal exits 1: \(text)")
        #expect(unknown["summary"] as? String == "unknown", "\(text)")
        #expect(!text.contains("{\n\n"), "an empty object printed over blank lines: \(text)")
        let (allowed, berlin, _) = try await check("198.51.100.7")
        #expect(allowed == 0)
        #expect(berlin["summary"] as? String == "Berlin, Germany")
        #expect(berlin["country_code"] as? String == "DE")
        let (_, loopback, _) = try await check("127.0.0.1")
        #expect(loopback["summary"] as? String == "loopback (this machine)")
        #expect(loopback["scope"] as? String == "loopback")
    }

    /// Issue 28 item 7: `--prefix` keeps to its folder. `sudo`, `systemctl` and `install` are
    /// wrapped (first on `PATH`) to record every call, and every path `install` is given must
    /// be under the prefix.
    @Test("scripts/install --prefix puts the binary and the systemd unit under the prefix, and never runs sudo or systemctl")
    func install() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let root = FixturePaths.repositoryRoot
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-install-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let prefix = scratch + "/prefix", wrappers = scratch + "/wrappers", calls = scratch + "/calls"
        try FileManager.default.createDirectory(atPath: wrappers, withIntermediateDirectories: true)
        for (name, body) in [
            ("sudo", "echo \"sudo $*\" >>\(calls); exit 1"),
            ("systemctl", "echo \"systemctl $*\" >>\(calls); exit 1"),
            ("install", "echo \"install $*\" >>\(calls); exec /usr/bin/install \"$@\""),
        ] {
            try "#!/bin/sh\n\(body)\n".write(toFile: wrappers + "/" + name, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrappers + "/" + name)
        }
        let path = wrappers + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let done = try await ChildProcess.run(
            [root + "/scripts/install", "--prefix", prefix, "--binary", DurabilityTests.binary], environment: ["PATH": path]
        )
        #expect(done.status == 0, "\(done.output)")
        #expect(done.output.contains("installed \(prefix)/bin/portcullis"))
        let help = try await ChildProcess.run([prefix + "/bin/portcullis", "--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("check-config"))
        let recorded = (try? String(contentsOfFile: calls, encoding: .utf8)) ?? ""
        #expect(!recorded.contains("sudo") && !recorded.contains("systemctl"), "\(recorded)")
        for line in recorded.split(separator: "\n") {
            #expect(line.split(separator: " ").last.map { $0.hasPrefix(prefix + "/") } == true, "install outside the prefix: \(line)")
        }
        let unit = prefix + "/lib/systemd/system/portcullis.service"
        if FileManager.default.fileExists(atPath: root + "/conf/portcullis.service") {
            let text = try String(contentsOfFile: unit, encoding: .utf8)
            #expect(text.contains("ExecStart=\(prefix)/bin/portcullis serve --config /etc/portcullis/portcullis.yaml"), "\(text)")
            #expect(!text.contains("/usr/local/bin"))
        }
    }
}
}
