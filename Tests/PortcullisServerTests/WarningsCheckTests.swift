import Foundation
import PortcullisTestSupport
import Testing

extension ServerTests {
/// `scripts/check-warnings`, which `scripts/test` (and so CI) runs on its build log: a warning
/// from our sources fails the run; the dependencies' own do not.
@Suite("The warnings check")
struct WarningsCheckTests {
    static let script = FixturePaths.repositoryRoot + "/scripts/check-warnings"

    static func check(_ log: String) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("build-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try log.write(toFile: file, atomically: true, encoding: .utf8)
        return try Subprocess.run([script, file])
    }

    static let dependencies = """
        warning: 'swift-distributed-tracing': found 1 file(s) which are unhandled; explicitly declare them as resources or exclude from the target
        /work/p/.build/checkouts/swift-nio/Sources/NIOCore/ByteBuffer.swift:10:5: warning: 'x' is deprecated
        /work/p/.build-release/checkouts/GRDB.swift/GRDB/Core/Database.swift:3:1: warning: var 'y' was never mutated
        .build/checkouts/swift-crypto/Sources/CCryptoBoringSSL/crypto/bio/bio.c:1:1: warning: unused variable 'z' [-Wunused-variable]
        [120/400] Compiling PortcullisCore AccessPolicy.swift
          |                   `- warning: result of call to 'write' is unused [#no-usage]
        """

    @Test("a log with only the dependencies' warnings passes")
    func dependenciesPass() throws {
        let result = try Self.check(Self.dependencies + "\nBuild complete!\n")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("no warnings from our sources"))
    }

    @Test("a warning from our sources or our manifest fails, and is listed once", arguments: [
        "/work/p/Sources/PortcullisStore/PostgreSQL/PostgresRows.swift:125:76: warning: type 'T' does not conform to the 'Sendable' protocol",
        "/work/p/Tests/PortcullisServerTests/MetricsTests.swift:3:8: warning: initialization of immutable value 'x' was never used",
        "warning: 'portcullis': found 2 file(s) which are unhandled; explicitly declare them as resources or exclude from the target",
        "/work/p/Sources/CMaxMindDB/shim.h:1:1: warning: empty translation unit [-Wempty-translation-unit]",
    ])
    func oursFail(line: String) throws {
        let result = try Self.check(Self.dependencies + "\n" + line + "\n" + line + "\n")
        #expect(result.status == 1)
        #expect(result.output.contains("1 warning(s) from our sources"), "\(result.output)")
        #expect(result.output.contains(line))
        #expect(!result.output.contains("checkouts"))
    }

    @Test("scripts/test runs the check on the log of its build")
    func wiredIntoTheTestScript() throws {
        let test = try String(contentsOfFile: FixturePaths.repositoryRoot + "/scripts/test", encoding: .utf8)
        #expect(test.contains("swift build --build-tests 2>&1 | tee .build/build.log"))
        #expect(test.contains("scripts/check-warnings .build/build.log"))
        let ci = try String(contentsOfFile: FixturePaths.repositoryRoot + "/.ci/run", encoding: .utf8)
        #expect(ci.contains("exec scripts/test"))
    }
}
}
