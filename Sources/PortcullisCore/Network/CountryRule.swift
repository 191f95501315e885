/// A route's GeoIP rule: allow only, or deny, a set of ISO 3166-1 alpha-2 country codes.
public enum CountryRule: Hashable, Sendable {
    case allow(Set<String>)
    case deny(Set<String>)

    /// Whether a request from `country` (nil when GeoIP has no answer) passes. An allow-list
    /// refuses an unknown country; a deny-list lets it through.
    public func permits(_ country: String?) -> Bool {
        switch self {
        case .allow(let codes):
            guard let country else { return false }
            return codes.contains(country)
        case .deny(let codes):
            guard let country else { return true }
            return !codes.contains(country)
        }
    }

    /// Two upper-case ASCII letters.
    public static func isCountryCode(_ text: String) -> Bool {
        text.utf8.count == 2 && text.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
