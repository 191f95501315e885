/// What a user agent string says about the device: browser, operating system and device type.
public struct DeviceInfo: Hashable, Sendable, Codable {
    public enum DeviceType: String, Hashable, Sendable, Codable {
        case desktop
        case mobile
        case tablet
        case bot
        case unknown
    }

    public var browser: String
    public var os: String
    public var type: DeviceType

    public init(browser: String, os: String, type: DeviceType) {
        self.browser = browser
        self.os = os
        self.type = type
    }

    public static let unknown = DeviceInfo(browser: "Unknown", os: "Unknown", type: .unknown)
}
