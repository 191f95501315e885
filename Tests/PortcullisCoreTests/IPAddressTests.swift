import PortcullisCore
import PortcullisTestSupport
import Testing

@Suite("IP addresses and CIDR ranges")
struct IPAddressTests {
    @Test("valid addresses parse and print canonically", arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::1", "fe80::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1::1", "2001:0:0:1::1"),
        ("1::", "1::"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("::ffff:0102:0304", "1.2.3.4"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func parses(_ input: String, _ canonical: String) throws {
        let address = try IPAddress(parsing: input)
        #expect(address.description == canonical)
        #expect(try IPAddress(parsing: canonical) == address)
    }

    @Test("IPv4-mapped IPv6 is the same address as IPv4")
    func mappedIsIPv4() throws {
        let mapped = try IPAddress(parsing: "::ffff:1.2.3.4")
        let plain = try IPAddress(parsing: "1.2.3.4")
        #expect(mapped == plain)
        #expect(mapped.isIPv4)
        #expect(mapped.ipv4 == 0x0102_0304)
        #expect(IPAddress(bytes: [1, 2, 3, 4]) == plain)
        #expect(IPAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4]) == plain)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test("bad addresses are refused with the text quoted", arguments: [
        "", " ", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1.2.3.04",
        "1..2.3", "1.2.3.4/", "a.b.c.d", "fe80::1%eth0", "::1%1", ":::", "1:::2", "1::2::3", ":1", "1:", "12345::",
        "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1.2.3", "1.2.3.4::", "::ffff:1.2.3.4.5", "0x7f.0.0.1",
        "1.2.3.4\n", "١.٢.٣.٤",
    ])
    func refuses(_ input: String) {
        #expect(throws: IPParseError.self) { try IPAddress(parsing: input) }
        do {
            _ = try IPAddress(parsing: input)
        } catch {
            if !input.isEmpty, input.count < 60 {
                #expect(error.description.contains("\"\(input)\""), "\(error.description)")
            }
        }
    }

    @Test("a zone index gets its own explanation")
    func zoneIndexMessage() {
        do {
            _ = try IPAddress(parsing: "fe80::1%eth0")
            Issue.record("accepted a zone index")
        } catch {
            #expect(error.problem == .zoneIndex)
            #expect(error.description.contains("zone index"))
        }
    }

    @Test("ranges parse", arguments: [
        ("10.0.0.0/8", "10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
        ("198.51.100.0/24", "198.51.100.0/24", "198.51.100.0", "198.51.100.255"),
        ("192.0.2.7/32", "192.0.2.7/32", "192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7/32", "192.0.2.7", "192.0.2.7"),
        ("0.0.0.0/0", "0.0.0.0/0", "0.0.0.0", "255.255.255.255"),
        ("2001:db8::/32", "2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("::/0", "::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
        ("2001:db8::1/128", "2001:db8::1/128", "2001:db8::1", "2001:db8::1"),
    ])
    func rangeParses(_ input: String, _ canonical: String, _ first: String, _ last: String) throws {
        let range = try IPRange(parsing: input)
        #expect(range.description == canonical)
        #expect(range.first.description == first)
        #expect(range.last.description == last)
        #expect(range.contains(range.first) && range.contains(range.last))
    }

    @Test("bad ranges are refused", arguments: [
        "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/08", "10.0.0.0/ 8",
        "10.0.0.1/8", "2001:db8::1/32", "1.2.3/24", "/24", "10.0.0.0/abc", "", "  ", "fe80::/10%eth0",
    ])
    func rangeRefused(_ input: String) {
        #expect(throws: IPParseError.self) { try IPRange(parsing: input) }
    }

    @Test("host bits set suggests the network")
    func hostBitsSuggestion() {
        do {
            _ = try IPRange(parsing: "10.1.2.3/8")
            Issue.record("accepted host bits")
        } catch {
            #expect(error.description.contains("10.0.0.0/8"))
            #expect(error.description.contains("\"10.1.2.3/8\""))
        }
    }

    @Test("::/0 covers IPv4 too; an IPv4 range never covers IPv6")
    func familyCoverage() {
        #expect(IPRange.literal("::/0").contains(.literal("192.0.2.1")))
        #expect(!IPRange.literal("0.0.0.0/0").contains(.literal("2001:db8::1")))
        #expect(IPRange.literal("0.0.0.0/0").contains(.literal("::ffff:8.8.8.8")))
    }
}
