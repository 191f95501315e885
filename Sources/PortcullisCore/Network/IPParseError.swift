/// A bad IP address or range, quoting the text that was given.
public struct IPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Problem: Hashable, Sendable {
        case empty
        case tooLong
        case whitespace
        case zoneIndex
        case invalidIPv4
        case invalidIPv6
        case invalidPrefixLength(maximum: Int)
        case hostBitsSet(network: String)
    }

    public let input: String
    public let problem: Problem

    public init(input: String, problem: Problem) {
        self.input = input
        self.problem = problem
    }

    public var description: String {
        let quoted = "\"\(input.count > 80 ? String(input.prefix(80)) + "…" : input)\""
        switch problem {
        case .empty:
            return "expected an IP address or CIDR range, got an empty string"
        case .tooLong:
            return "expected an IP address or CIDR range, got \(quoted) (too long)"
        case .whitespace:
            return "expected an IP address or CIDR range without spaces, got \(quoted)"
        case .zoneIndex:
            return "expected an IP address without a zone index (%…), got \(quoted)"
        case .invalidIPv4:
            return "expected an IPv4 address of four decimal numbers 0–255 such as 192.0.2.1, got \(quoted)"
        case .invalidIPv6:
            return "expected an IPv6 address such as 2001:db8::1, got \(quoted)"
        case .invalidPrefixLength(let maximum):
            return "expected a prefix length from 0 to \(maximum), got \(quoted)"
        case .hostBitsSet(let network):
            return "expected a network address with no host bits set, got \(quoted) (did you mean \(network)?)"
        }
    }
}
