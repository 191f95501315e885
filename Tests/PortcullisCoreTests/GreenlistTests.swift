import PortcullisCore
import PortcullisTestSupport
import Testing

private func entry(_ cidr: String, _ label: String) -> Greenlist.Entry {
    Greenlist.Entry(range: .literal(cidr), label: label)
}

@Suite("Greenlists")
struct GreenlistTests {
    let corp = Greenlist(name: "corp", entries: [
        entry("198.51.100.0/24", "office"),
        entry("2001:db8::/32", "vpn"),
        entry("198.51.100.128/25", "office-wifi"),
        entry("10.0.0.0/8", "internal"),
        entry("10.1.0.0/16", "lab"),
        entry("10.1.2.3/32", "lab-printer"),
    ])

    @Test("the most specific entry answers", arguments: [
        ("198.51.100.7", "office"),
        ("198.51.100.200", "office-wifi"),
        ("198.51.100.128", "office-wifi"),
        ("198.51.100.127", "office"),
        ("2001:db8:1::5", "vpn"),
        ("10.9.9.9", "internal"),
        ("10.1.0.0", "lab"),
        ("10.1.2.3", "lab-printer"),
        ("10.1.2.4", "lab"),
        ("10.255.255.255", "internal"),
        ("::ffff:198.51.100.7", "office"),
    ])
    func mostSpecific(_ address: String, _ label: String) {
        #expect(corp.match(.literal(address))?.label == label)
    }

    @Test("addresses outside every entry are not matched", arguments: [
        "198.51.101.0", "198.51.99.255", "9.255.255.255", "11.0.0.0", "2001:db9::1", "203.0.113.7", "::1", "0.0.0.0",
    ])
    func outside(_ address: String) {
        #expect(corp.match(.literal(address)) == nil)
        #expect(!corp.contains(.literal(address)))
    }

    @Test("an empty list matches nothing; ::/0 and 0.0.0.0/0 match what they should")
    func extremes() {
        #expect(Greenlist(name: "empty", entries: []).match(.literal("1.2.3.4")) == nil)
        let everything = Greenlist(name: "all", entries: [entry("::/0", "all"), entry("0.0.0.0/0", "v4")])
        #expect(everything.match(.literal("1.2.3.4"))?.label == "v4")
        #expect(everything.match(.literal("2001:db8::1"))?.label == "all")
        #expect(everything.match(.literal("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))?.label == "all")
    }

    @Test("duplicate entries: the first listed wins")
    func duplicates() {
        let list = Greenlist(name: "d", entries: [entry("10.0.0.0/8", "first"), entry("10.0.0.0/8", "second")])
        #expect(list.match(.literal("10.1.1.1"))?.label == "first")
    }

    @Test("10,000 random entries agree with a linear scan")
    func agreesWithLinearScan() {
        var generator = SplitMix64(seed: 42)
        var entries: [Greenlist.Entry] = []
        for index in 0..<10_000 {
            let isV6 = generator.next() % 4 == 0
            let range: IPRange
            if isV6 {
                let length = Int(generator.next() % 64) + 16
                range = IPRange(network: IPAddress(ipv6: UInt128(generator.next()) << 64 | UInt128(generator.next())), prefixLength128: length)
            } else {
                let length = Int(generator.next() % 25) + 8
                range = IPRange(network: IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next())), prefixLength128: 96 + length)
            }
            entries.append(Greenlist.Entry(range: range, label: "e\(index)"))
        }
        let list = Greenlist(name: "big", entries: entries)
        func linear(_ address: IPAddress) -> String? {
            var best: (Int, Int)?
            for (index, item) in entries.enumerated() where item.range.contains(address) {
                if best == nil || item.range.prefixLength128 > best!.0 { best = (item.range.prefixLength128, index) }
            }
            return best.map { entries[$0.1].label }
        }
        for probe in 0..<3_000 {
            let address: IPAddress
            if probe % 2 == 0 {
                // Inside a random entry, near its edges or middle.
                let item = entries[Int(generator.next() % UInt64(entries.count))]
                let span = item.range.last.value - item.range.first.value
                let offset = [0, span, span / 2, UInt128(generator.next()) % (span == .max ? span : span + 1)][probe % 4 == 0 ? 0 : Int(generator.next() % 4)]
                address = IPAddress(ipv6: item.range.first.value + offset)
            } else if probe % 3 == 0 {
                address = IPAddress(ipv6: UInt128(generator.next()) << 64 | UInt128(generator.next()))
            } else {
                address = IPAddress(ipv4: UInt32(truncatingIfNeeded: generator.next()))
            }
            #expect(list.match(address)?.label == linear(address), "\(address)")
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
