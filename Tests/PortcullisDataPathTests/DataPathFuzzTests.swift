import PortcullisDataPathTesting
import Testing

/// The fuzz harness in the suite, with a seeded generator: every seed of the hostile corpus,
/// then mutations of them (bytes flipped, framing tokens spliced in, cut at random), each
/// through the data path in memory with the invariants checked. The coverage-guided run is
/// `fuzz/run` (libFuzzer); this keeps the same promise in every CI run, repeatably.
@Suite("Data path fuzzing with a seeded generator")
struct DataPathFuzzTests {
    /// SplitMix64: small, fast and the same on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let tokens: [String] = [
        "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ":", ",", "0", "5", "ff", "-1", "\u{0}",
        "Content-Length: ", "Content-Length: 0\r\n", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n", "Connection: Content-Length\r\n", "Connection: close\r\n",
        "Content_Length: 4\r\n", "Host: a\r\n", "Expect: 100-continue\r\n", "0\r\n\r\n", "3\r\nabc\r\n",
        "GET / HTTP/1.1\r\n", "POST /private HTTP/1.1\r\n", "DELETE /office HTTP/1.1\r\n", "HTTP/1.0", "X-Portcullis-User: root\r\n",
        "Upgrade: websocket\r\nConnection: Upgrade\r\n",
    ]

    static func mutate(_ seed: [UInt8], using generator: inout Generator) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0 where bytes.count > 1:
                bytes[Int.random(in: 1..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            case 1:
                let token = Array(tokens.randomElement(using: &generator)?.utf8 ?? "".utf8)
                bytes.insert(contentsOf: token, at: Int.random(in: 1...bytes.count, using: &generator))
            case 2 where bytes.count > 2:
                let start = Int.random(in: 1..<bytes.count, using: &generator)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...8, using: &generator)))
            case 3:
                bytes[0] = UInt8.random(in: 0...7, using: &generator)
            default:
                let other = HostileRequest.corpus.randomElement(using: &generator)?.bytes ?? ""
                bytes.append(contentsOf: other.utf8)
            }
        }
        return bytes
    }

    @Test("every seed keeps the invariants")
    func seeds() {
        for seed in DataPathFuzzHarness.seeds {
            let violations = DataPathFuzzHarness.violations(for: seed)
            #expect(violations == [], "\(String(decoding: seed.dropFirst(), as: UTF8.self)): \(violations)")
        }
    }

    @Test("10,000 mutations keep the invariants")
    func mutations() {
        var generator = Generator(state: 0x5EED_0F_DA7A_9A7)
        let seeds = DataPathFuzzHarness.seeds
        for iteration in 0..<10_000 {
            guard let seed = seeds.randomElement(using: &generator) else { return }
            let input = Self.mutate(seed, using: &generator)
            let violations = DataPathFuzzHarness.violations(for: input)
            #expect(violations == [], "iteration \(iteration): \(input.dropFirst().map { String($0, radix: 16) }.joined(separator: " ")): \(violations)")
            if !violations.isEmpty { return }
        }
    }
}
