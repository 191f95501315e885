import PortcullisConfigFile
import PortcullisCore
import PortcullisTestSupport
import Testing

/// `ip-check --proposed FILE`: the shapes an operator has at hand, in YAML or JSON.
@Suite("A proposed greenlist file")
struct ProposedGreenlistTests {
    static func read(_ text: String) -> Result<Greenlist, ConfigurationError> {
        do {
            return ProposedGreenlist.decode(try ConfigurationFile.parse(text: text, file: "proposed.yaml"), file: "proposed.yaml")
        } catch {
            return .failure(error)
        }
    }

    @Test("a list of entries, a list as GET /greenlists shows it, or the API's dry-run body", arguments: [
        ("- { cidr: 198.51.100.0/24, label: office }\n- { cidr: \"2001:db8::/32\" }\n", "proposed"),
        ("name: office\nsource: store\ntenant: true\nentries:\n  - { cidr: 198.51.100.0/24, label: office }\n  - { cidr: \"2001:db8::/32\" }\n", "office"),
        (#"{"greenlist": {"entries": [{"cidr": "198.51.100.0/24", "label": "office"}, {"cidr": "2001:db8::/32"}]}}"#, "proposed"),
    ])
    func shapes(text: String, name: String) throws {
        let list = try Self.read(text).get()
        #expect(list.name == name)
        #expect(list.entries.map(\.range.description) == ["198.51.100.0/24", "2001:db8::/32"])
        #expect(list.entries.map(\.label) == ["office", ""])
        #expect(list.contains(.literal("198.51.100.9")))
        #expect(!list.contains(.literal("203.0.113.9")))
    }

    @Test("every problem, with its key path", arguments: [
        ("- { cidr: 198.51.100.0/33 }\n", "[0].cidr"),
        ("entries: [{ cidr: 10.0.0.0/8, lable: x }]\n", "entries[0].lable: unknown key"),
        ("name: office\n", "missing key entries"),
        ("greenlist: {}\n", "greenlist: missing key entries"),
        ("just text\n", "expected a mapping"),
    ])
    func problems(text: String, expected: String) {
        guard case .failure(let error) = Self.read(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(error.description.contains(expected), "\(error.description)")
    }
}
