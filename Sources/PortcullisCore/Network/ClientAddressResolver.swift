/// Finds the client's address (SPEC §4): the TCP peer, unless the peer is a trusted proxy;
/// then `X-Forwarded-For` is walked from the right, skipping trusted hops. A header from an
/// untrusted peer is ignored entirely.
public struct ClientAddressResolver: Sendable {
    public enum Resolution: Hashable, Sendable {
        case address(IPAddress)
        /// A trusted proxy sent a `X-Forwarded-For` hop that is not an address.
        case malformed(String)
    }

    /// The most hops read from the right before giving up.
    public static let maximumHops = 32

    private let trusted: Greenlist

    public init(trustedProxies: [IPRange]) {
        trusted = Greenlist(
            name: "trusted_proxies",
            entries: trustedProxies.map { Greenlist.Entry(range: $0, label: "trusted proxy") }
        )
    }

    public var hasTrustedProxies: Bool { !trusted.entries.isEmpty }

    public func isTrusted(_ address: IPAddress) -> Bool {
        trusted.contains(address)
    }

    /// - Parameter forwardedFor: every `X-Forwarded-For` field value, in the order received.
    public func resolve(peer: IPAddress, forwardedFor: [String]) -> Resolution {
        guard trusted.contains(peer), !forwardedFor.isEmpty else { return .address(peer) }
        var hops: [Substring] = []
        for value in forwardedFor {
            hops.append(contentsOf: value.split(separator: ",", omittingEmptySubsequences: false))
        }
        var client = peer
        for hop in hops.reversed().prefix(Self.maximumHops) {
            guard let address = Self.parseHop(hop) else {
                return .malformed(String(hop.prefix(64)))
            }
            client = address
            if !trusted.contains(address) { return .address(address) }
        }
        return .address(client)
    }

    /// `192.0.2.1`, `192.0.2.1:5000`, `2001:db8::1` or `[2001:db8::1]:5000`.
    static func parseHop(_ raw: Substring) -> IPAddress? {
        let hop = raw.trimmingASCIIWhitespace()
        if hop.first == "[" {
            guard let close = hop.firstIndex(of: "]") else { return nil }
            let inner = hop[hop.index(after: hop.startIndex)..<close]
            let rest = hop[hop.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isASCIIDigit)) else { return nil }
            return try? IPAddress(parsing: inner)
        }
        if let address = try? IPAddress(parsing: hop) { return address }
        // IPv4 with a port.
        if let colon = hop.lastIndex(of: ":"), hop.filter({ $0 == ":" }).count == 1,
           hop[hop.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            return try? IPAddress(parsing: hop[..<colon])
        }
        return nil
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
