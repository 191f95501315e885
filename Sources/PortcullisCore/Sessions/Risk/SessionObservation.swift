#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One moment a user was seen: a sign-in, or a live session's client address changing. The
/// session history is a list of these, kept for `sessions.risk.history` and then pruned; it
/// holds only what the signals need (the coarse place, the device family, the time).
public struct SessionObservation: Hashable, Sendable, Codable {
    public enum Event: String, Hashable, Sendable, Codable {
        case signIn = "sign_in"
        case addressChange = "address_change"
    }

    public var at: Date
    public var event: Event
    public var place: ObservedPlace
    /// Browser, operating system and device type: the family, never the version.
    public var device: DeviceInfo

    public init(at: Date, event: Event, place: ObservedPlace, device: DeviceInfo) {
        self.at = at
        self.event = event
        self.place = place
        self.device = device
    }
}

extension DeviceInfo {
    /// `Firefox on Linux (desktop)`.
    public var summary: String { "\(browser) on \(os) (\(type.rawValue))" }

    /// Nothing was read from the user agent: it never raises a flag by itself.
    public var isUnknown: Bool { browser == DeviceInfo.unknown.browser && os == DeviceInfo.unknown.os }
}
