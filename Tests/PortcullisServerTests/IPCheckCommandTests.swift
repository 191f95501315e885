import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing

extension ServerTests {
/// `portcullis ip-check` (the real binary) on the store of a running gateway: it sees the
/// greenlists and the tenant greenlist managed through the admin API, tests a user's access
/// with `--user`, dry-runs a proposed list with `--proposed`, and answers in the API's JSON.
@Suite("ip-check sees the store and answers like the API")
struct IPCheckCommandTests {
    static func object(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, "not a JSON object: \(text)")
    }

    @Test("store-managed greenlists, --user and --proposed give the admin API's answers")
    func sameAnswersAsTheAPI() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let harness = try await SSOHarness.start(routes: AdminAPITests.routes)
        defer { Task { await harness.stop() } }
        try await AdminAPITests.bootstrap(harness)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await root.shutdown(); await sam.shutdown() } }
        let config = harness.configurationPath
        let geoIP = ["--geoip-database", FixturePaths.testCityDatabase]

        // Before: no greenlist anywhere; everyone passes.
        let open = try await CommandLineTests.portcullis(["ip-check", "203.0.113.9", "--config", config] + geoIP)
        #expect(open.status == 0, "\(open.error)")
        #expect(open.output.contains("no tenant greenlist is set"))

        // A list and the tenant-wide choice, made through the API: the config file knows neither.
        let put = try await root.call(.PUT, "/greenlists/office", json: """
            {"entries":[{"cidr":"127.0.0.0/8","label":"loopback"},{"cidr":"198.51.100.0/24","label":"office"}]}
            """)
        #expect(put.status == .ok, "\(put.body)")
        #expect(try await root.call(.PUT, "/settings/tenant-greenlist", json: #"{"greenlist":"office"}"#).status == .ok)

        let refused = try await CommandLineTests.portcullis(["ip-check", "203.0.113.9", "--config", config, "--json"] + geoIP)
        #expect(refused.status == 1, "\(refused.error)")
        let api = try await root.call(.POST, "/ip-policy/test", json: #"{"ip":"203.0.113.9"}"#)
        #expect(api.status == .ok)
        #expect(try Self.object(refused.output) == Self.object(api.body), "CLI \(refused.output) API \(api.body)")
        #expect(api.body.contains(#""rule":"office""#))
        #expect(api.body.contains(#""reason":"ip_not_greenlisted""#))
        let text = try await CommandLineTests.portcullis(["ip-check", "198.51.100.20", "--config", config] + geoIP)
        #expect(text.status == 0)
        #expect(text.output.contains("pass tenant_greenlist office: 198.51.100.20 is in 198.51.100.0/24 (office)"), "\(text.output)")

        // --user: the route's requirement, with the user's roles in the store.
        let arguments = ["ip-check", "127.0.0.1", "--route", "teammates-page", "--user", "sam@example.com", "--config", config, "--json"]
        let member = try await CommandLineTests.portcullis(arguments + geoIP)
        #expect(member.status == 1, "\(member.error)")
        let memberAPI = try await root.call(.POST, "/ip-policy/test", json: #"{"ip":"127.0.0.1","route":"teammates-page","user":"sam@example.com"}"#)
        #expect(try Self.object(member.output) == Self.object(memberAPI.body), "CLI \(member.output) API \(memberAPI.body)")
        #expect(memberAPI.body.contains(#""reason":"permission_required""#))
        let admin = try await CommandLineTests.portcullis(
            ["ip-check", "127.0.0.1", "--route", "teammates-page", "--user", "root@example.com", "--config", config] + geoIP
        )
        #expect(admin.status == 0, "\(admin.output) \(admin.error)")
        let nobody = try await CommandLineTests.portcullis(["ip-check", "127.0.0.1", "--route", "teammates-page", "--user", "nobody@example.com", "--config", config])
        #expect(nobody.status == 2)
        #expect(nobody.error.contains("no user nobody@example.com"))

        // --proposed: the dry run, from the address given.
        let proposal = harness.certificates.folder + "/proposed.yaml"
        try harness.certificates.write("""
            - { cidr: 198.51.100.0/24, label: office }
            """, "proposed.yaml")
        let dryRun = try await CommandLineTests.portcullis(["ip-check", "127.0.0.1", "--proposed", proposal, "--config", config, "--json"])
        #expect(dryRun.status == 1, "\(dryRun.error)")
        let dryRunAPI = try await root.call(.POST, "/ip-policy/dry-run", json: #"{"greenlist":{"entries":[{"cidr":"198.51.100.0/24","label":"office"}]}}"#)
        #expect(dryRunAPI.status == .ok, "\(dryRunAPI.body)")
        #expect(try Self.object(dryRun.output) == Self.object(dryRunAPI.body), "CLI \(dryRun.output) API \(dryRunAPI.body)")
        #expect((dryRunAPI["sessions_cut_off"] as? [Any])?.count == 2)
        #expect(dryRunAPI["admins_cut_off"] as? [String] == ["root@example.com"])
        #expect(dryRunAPI["would_lock_out_self"] as? Bool == true)
        let readable = try await CommandLineTests.portcullis(["ip-check", "127.0.0.1", "--proposed", proposal, "--config", config])
        #expect(readable.output.contains("127.0.0.1 is OUTSIDE the proposed list (1 entry)"), "\(readable.output)")
        #expect(readable.output.contains("2 active session(s) would be cut off"))
        #expect(readable.output.contains("admins cut off (no session from inside the list): root@example.com"))
        // The API's own body and a list as GET /greenlists shows it are read too.
        try harness.certificates.write(#"{"greenlist":{"entries":[{"cidr":"127.0.0.0/8","label":"loopback"}]}}"#, "proposed.json")
        let inside = try await CommandLineTests.portcullis(
            ["ip-check", "127.0.0.1", "--proposed", harness.certificates.folder + "/proposed.json", "--config", config]
        )
        #expect(inside.status == 0, "\(inside.error)")
        #expect(inside.output.contains("no active session would be cut off"))
        try harness.certificates.write("name: office\nentries: [{ cidr: 10.0.0.0/33 }]\n", "broken.yaml")
        let broken = try await CommandLineTests.portcullis(
            ["ip-check", "127.0.0.1", "--proposed", harness.certificates.folder + "/broken.yaml", "--config", config]
        )
        #expect(broken.status == 2)
        #expect(broken.error.contains("entries[0].cidr"), "\(broken.error)")
    }

    @Test("a configuration whose SQLite store does not exist yet is answered from the file, and no store is created")
    func noStoreYet() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ip-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            server:
              listen: "127.0.0.1:8443"
              public_url: "https://localhost:8443"
              tls:
                certificates:
                  - { cert_file: server.pem, key_file: server-key.pem }
            store:
              sqlite: { path: store/portcullis.sqlite }
            network:
              greenlists:
                corp: [{ cidr: 198.51.100.0/24, label: office }]
              tenant_greenlist: corp
            routes:
              - { name: app, path: /, upstream: "http://127.0.0.1:8080", require: public }
            """.write(toFile: folder + "/portcullis.yaml", atomically: true, encoding: .utf8)
        let answer = try await CommandLineTests.portcullis(["ip-check", "198.51.100.4", "--config", folder + "/portcullis.yaml"])
        #expect(answer.status == 0, "\(answer.error)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/store"))
        let user = try await CommandLineTests.portcullis(["ip-check", "198.51.100.4", "--route", "app", "--user", "a@example.com", "--config", folder + "/portcullis.yaml"])
        #expect(user.status == 2)
        #expect(user.error.contains("--user needs the store"))
    }
}
}
