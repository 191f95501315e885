import Foundation
import PortcullisDataPathTesting

// The data path's fuzz target. Built with `fuzz/run` (libFuzzer: `-sanitize=fuzzer,address`
// and `-D FUZZING`), each input is one client connection's bytes through the real HTTP/1.1
// pipeline and proxy handler in memory; a broken invariant (the upstream received a request the
// access log does not show, an ambiguous framing, an identity header) aborts with the evidence.
// Built normally, the same binary replays inputs from files, for regressions:
//   portcullis-fuzz FILE...            replay inputs; exit 1 on a violation
//   portcullis-fuzz --write-seeds DIR  write the seed corpus (the hostile-request corpus)

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataPath(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    let violations = DataPathFuzzHarness.violations(for: input)
    if !violations.isEmpty {
        FileHandle.standardError.write(Data(("data path invariant broken:\n" + violations.joined(separator: "\n") + "\n").utf8))
        abort()
    }
    return 0
}

/// libFuzzer's driver, for a program with a `main` of its own (LLVM ≥ 11).
// swift-format-ignore: AlwaysUseLowerCamelCase
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`; here it starts libFuzzer.
@_cdecl("portcullis_fuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzDataPath)
}
#else
@main
enum DataPathFuzzReplay {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds", arguments.count == 2 {
            let folder = arguments[1]
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (index, seed) in DataPathFuzzHarness.seeds.enumerated() {
                try Data(seed).write(to: URL(fileURLWithPath: folder + "/seed-\(index)"))
            }
            print("wrote \(DataPathFuzzHarness.seeds.count) seeds to \(folder)")
            return
        }
        var failed = 0
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                failed += 1
                continue
            }
            let violations = DataPathFuzzHarness.violations(for: Array(data))
            if !violations.isEmpty {
                failed += 1
                print("\(path):\n  " + violations.joined(separator: "\n  "))
            }
        }
        print("\(arguments.count - failed) of \(arguments.count) inputs kept the invariants")
        if failed > 0 { exit(1) }
    }
}
#endif
