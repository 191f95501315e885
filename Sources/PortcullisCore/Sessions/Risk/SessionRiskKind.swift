/// What looks suspicious about a session (SPEC §3, "Suspicious sessions").
public enum SessionRiskKind: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// A sign-in from a country the user has not signed in from within the history window.
    case newCountry = "new_country"
    /// This place and the user's previous one are further apart than anyone could travel in
    /// the time between them.
    case impossibleTravel = "impossible_travel"
    /// A live session's client address moved to another country or another network (ASN).
    case networkJump = "network_jump"
    /// A browser, operating system or device type the user has not signed in with within the
    /// history window.
    case newDevice = "new_device"

    /// `New country`, for people.
    public var title: String {
        switch self {
        case .newCountry: "New country"
        case .impossibleTravel: "Impossible travel"
        case .networkJump: "Network jump"
        case .newDevice: "New device"
        }
    }

    public static func < (lhs: SessionRiskKind, rhs: SessionRiskKind) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
