import PortcullisCore
import Testing

@Suite("Durations and sizes in configuration")
struct DurationTextTests {
    @Test("durations parse", arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("5s", .seconds(5)),
        ("90m", .seconds(5_400)),
        ("8h", .seconds(28_800)),
        ("2d", .seconds(172_800)),
        ("1h30m", .seconds(5_400)),
        ("0s", .zero),
    ])
    func parses(_ text: String, _ expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test("bad durations are refused", arguments: ["", "5", "s", "5 s", "-5s", "5sec", "1.5h", "5S", "h5", "9999999999h", "5s "])
    func refused(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test("formatting is exact and short")
    func format() {
        #expect(DurationText.format(.seconds(28_800)) == "8h")
        #expect(DurationText.format(.seconds(5_400)) == "90m")
        #expect(DurationText.format(.milliseconds(1_500)) == "1500ms")
        #expect(DurationText.format(.seconds(5)) == "5s")
        #expect(DurationText.format(.zero) == "0s")
    }

    @Test("sizes parse")
    func sizes() {
        #expect(ByteCountText.parse("16KiB") == 16_384)
        #expect(ByteCountText.parse("1MiB") == 1_048_576)
        #expect(ByteCountText.parse("64KB") == 64_000)
        #expect(ByteCountText.parse("4096") == 4_096)
        #expect(ByteCountText.parse("1.5MiB") == nil)
        #expect(ByteCountText.parse("MiB") == nil)
        #expect(ByteCountText.parse("-1") == nil)
    }
}
