import Foundation
import PortcullisTestSupport
import Testing

/// Allocations per proxied request are deterministic for a build, so a budget can hold them:
/// `portcullis-allocations` (the debug build `swift build --build-tests` makes) drives requests
/// through the data path's real pipeline in memory, preloaded with malloc-interposer, and
/// prints what each mode allocates. The release figures are in bench/README.md
/// (`bench/allocations`); the budgets here are the debug build's, tightened as the hot path
/// gets leaner. Timings are never tested: they belong to bench/.
@Suite("Allocations per request")
struct AllocationBudgetTests {
    /// Allocations per request, at most: the measured debug count with a little room.
    static let budgets: [String: Int] = [
        "public": 170,
        "cookie": 218,
        "permission": 226,
        "bearer": 202,
        "apitoken": 202,
    ]

    @Test("each mode allocates no more per request than its budget")
    func withinBudget() async throws {
        let root = FixturePaths.repositoryRoot
        let binary = root + "/.build/debug/portcullis-allocations"
        let interposer = root + "/.build/debug/libMallocInterposerSwift.so"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build first: swift build --build-tests")
        try #require(FileManager.default.fileExists(atPath: interposer))
        let run = try await ChildProcess.run(
            [binary, "--requests", "500"], environment: ["LD_PRELOAD": interposer], directory: root, timeout: .seconds(300),
            separatingErrors: true
        )
        try #require(run.status == 0, "\(run.errors)\n\(run.output)")
        var counts: [String: Int] = [:]
        for line in run.output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let allocations = Int(fields[1]) else { continue }
            counts[String(fields[0])] = allocations
        }
        #expect(Set(counts.keys) == Set(Self.budgets.keys), "\(run.output)")
        for (mode, budget) in Self.budgets.sorted(by: { $0.key < $1.key }) {
            let count = try #require(counts[mode], "\(run.output)")
            // Zero would mean the interposer was not loaded: nothing was counted.
            #expect(count > 0, "\(mode): nothing counted; is LD_PRELOAD working?")
            #expect(count <= budget, "\(mode): \(count) allocations per request, budget \(budget)")
        }
    }
}
