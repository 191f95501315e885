#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a flag rests on: the places, times, distances and devices that raised it. Encoded
/// flat, with its `kind`, in the store, the admin API and the webhook.
public enum SessionRiskEvidence: Hashable, Sendable {
    case newCountry(NewCountry)
    case impossibleTravel(Travel)
    case networkJump(NetworkJump)
    case newDevice(NewDevice)

    /// A sign-in from a country missing from the user's recent sign-ins.
    public struct NewCountry: Hashable, Sendable, Codable {
        public var place: ObservedPlace
        /// The countries of the user's sign-ins within the window, sorted.
        public var knownCountries: [String]
        public var windowSeconds: Double

        public init(place: ObservedPlace, knownCountries: [String], windowSeconds: Double) {
            self.place = place
            self.knownCountries = knownCountries
            self.windowSeconds = windowSeconds
        }

        enum CodingKeys: String, CodingKey {
            case place
            case knownCountries = "known_countries"
            case windowSeconds = "window_seconds"
        }
    }

    /// Two places too far apart for the time between them.
    public struct Travel: Hashable, Sendable, Codable {
        public var from: ObservedPlace
        public var to: ObservedPlace
        public var fromAt: Date
        public var toAt: Date
        /// The great-circle distance between the two points, in kilometres.
        public var distanceKm: Double
        /// How much of that the databases' accuracy radii (and the history's rounding) may
        /// explain: the speed is computed over what is left.
        public var uncertaintyKm: Double
        /// At least this fast, in km/h.
        public var speedKmh: Double
        /// `sessions.risk.max_speed_kmh` at the time.
        public var maxSpeedKmh: Double

        public init(
            from: ObservedPlace, to: ObservedPlace, fromAt: Date, toAt: Date, distanceKm: Double, uncertaintyKm: Double,
            speedKmh: Double, maxSpeedKmh: Double
        ) {
            self.from = from
            self.to = to
            self.fromAt = fromAt
            self.toAt = toAt
            self.distanceKm = distanceKm
            self.uncertaintyKm = uncertaintyKm
            self.speedKmh = speedKmh
            self.maxSpeedKmh = maxSpeedKmh
        }

        /// Seconds between the two, never negative.
        public var elapsedSeconds: Double { max(0, toAt.timeIntervalSince(fromAt)) }

        enum CodingKeys: String, CodingKey {
            case from, to
            case fromAt = "from_at"
            case toAt = "to_at"
            case distanceKm = "distance_km"
            case uncertaintyKm = "uncertainty_km"
            case speedKmh = "speed_kmh"
            case maxSpeedKmh = "max_speed_kmh"
        }
    }

    /// A live session whose client address moved to another country or network.
    public struct NetworkJump: Hashable, Sendable, Codable {
        public var from: ObservedPlace
        public var to: ObservedPlace
        public var fromAddress: String?
        public var toAddress: String?
        public var countryChanged: Bool
        public var networkChanged: Bool

        public init(from: ObservedPlace, to: ObservedPlace, fromAddress: String?, toAddress: String?, countryChanged: Bool, networkChanged: Bool) {
            self.from = from
            self.to = to
            self.fromAddress = fromAddress
            self.toAddress = toAddress
            self.countryChanged = countryChanged
            self.networkChanged = networkChanged
        }

        enum CodingKeys: String, CodingKey {
            case from, to
            case fromAddress = "from_address"
            case toAddress = "to_address"
            case countryChanged = "country_changed"
            case networkChanged = "network_changed"
        }
    }

    /// A device family missing from the user's recent sign-ins.
    public struct NewDevice: Hashable, Sendable, Codable {
        public var device: DeviceInfo
        /// The device families of the user's sign-ins within the window (at most ten).
        public var knownDevices: [DeviceInfo]
        public var windowSeconds: Double

        public init(device: DeviceInfo, knownDevices: [DeviceInfo], windowSeconds: Double) {
            self.device = device
            self.knownDevices = knownDevices
            self.windowSeconds = windowSeconds
        }

        enum CodingKeys: String, CodingKey {
            case device
            case knownDevices = "known_devices"
            case windowSeconds = "window_seconds"
        }
    }

    public var kind: SessionRiskKind {
        switch self {
        case .newCountry: .newCountry
        case .impossibleTravel: .impossibleTravel
        case .networkJump: .networkJump
        case .newDevice: .newDevice
        }
    }

    /// What makes two flags of one kind on one session the same: a session is flagged once
    /// for a new country, once per route between two places, once per device, so a session
    /// bouncing between two networks is not flagged on every bounce, and a dismissed flag
    /// stays dismissed.
    public var subject: String {
        switch self {
        case .newCountry(let evidence): evidence.place.countryCode ?? "-"
        case .impossibleTravel(let evidence): "\(evidence.from.summary) > \(evidence.to.summary)"
        case .networkJump(let evidence): "\(evidence.from.summaryWithNetwork) > \(evidence.to.summaryWithNetwork)"
        case .newDevice(let evidence): evidence.device.summary
        }
    }
}

extension SessionRiskEvidence {
    /// The evidence as people and other programs read it (the admin API, the audit log, the
    /// webhook): its JSON with times in ISO 8601. (The store keeps its own encoding.)
    public var jsonValue: JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(self), let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return .null }
        return value
    }
}

extension SessionRiskEvidence: Codable {
    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: KindKey.self).decode(SessionRiskKind.self, forKey: .kind)
        switch kind {
        case .newCountry: self = .newCountry(try NewCountry(from: decoder))
        case .impossibleTravel: self = .impossibleTravel(try Travel(from: decoder))
        case .networkJump: self = .networkJump(try NetworkJump(from: decoder))
        case .newDevice: self = .newDevice(try NewDevice(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .newCountry(let evidence): try evidence.encode(to: encoder)
        case .impossibleTravel(let evidence): try evidence.encode(to: encoder)
        case .networkJump(let evidence): try evidence.encode(to: encoder)
        case .newDevice(let evidence): try evidence.encode(to: encoder)
        }
    }
}
