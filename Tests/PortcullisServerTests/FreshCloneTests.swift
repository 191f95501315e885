import Foundation
import PortcullisTestSupport
import Testing

extension ServerTests {
/// What a new operator sees: a fresh clone of this repository, the shipped configuration and
/// the built binary.
@Suite("A fresh clone")
struct FreshCloneTests {
    /// Runs the built binary in `folder`; stdout and stderr together.
    static func portcullis(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String) {
        try Subprocess.run(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", folder, DurabilityTests.binary] + arguments)
    }

    @Test("check-config on the shipped configuration names the one command to run, and passes once it has run")
    func checkConfigOnAFreshClone() throws {
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        let root = FixturePaths.repositoryRoot
        try #require(FileManager.default.fileExists(atPath: root + "/.git"), "not a git checkout: \(root)")
        let clone = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-clone-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: clone) }
        let cloned = try Subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", root, clone])
        try #require(cloned.status == 0, "git clone: \(cloned.output)")
        #expect(FileManager.default.fileExists(atPath: clone + "/certs/README.md"))
        #expect(!FileManager.default.fileExists(atPath: clone + "/certs/dev"))

        let first = try Self.portcullis(["check-config", "--config", "conf/portcullis.yaml"], in: clone)
        #expect(first.status == 2)
        #expect(first.output.contains("certs/dev/server.pem"))
        #expect(first.output.contains("Make them with: portcullis certs dev\n"), "\(first.output)")

        let made = try Self.portcullis(["certs", "dev"], in: clone)
        #expect(made.status == 0, "\(made.output)")
        let second = try Self.portcullis(["check-config", "--config", "conf/portcullis.yaml"], in: clone)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output == "conf/portcullis.yaml: OK\n")
        // What the command made stays out of git.
        let status = try Subprocess.run(["git", "-C", clone, "status", "--porcelain", "--untracked-files=all"])
        #expect(status.status == 0)
        #expect(status.output.isEmpty, "generated files are not ignored: \(status.output)")

        // From elsewhere, the command names the folder the configuration points at.
        try FileManager.default.removeItem(atPath: clone + "/certs/dev")
        let elsewhere = try Self.portcullis(["check-config", "--config", clone + "/conf/portcullis.yaml"], in: "/")
        #expect(elsewhere.status == 2)
        #expect(elsewhere.output.contains("Make them with: portcullis certs dev --out \(clone)/certs/dev"), "\(elsewhere.output)")
    }
}
}
