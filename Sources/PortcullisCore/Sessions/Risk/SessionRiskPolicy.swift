#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The suspicious-session signals (SPEC §3): a pure function of the user's recent history and
/// one new observation (a sign-in, or a live session's address change), answering the flags
/// it raises with their evidence. No I/O, no clock: the observation carries its time.
///
/// - `new_country` (at sign-in): the country is missing from the countries of the user's
///   sign-ins within the window (and at least one of those is known).
/// - `impossible_travel`: the great-circle distance from the user's latest located
///   observation, less both accuracy radii, over the time between them, exceeds
///   `max_speed_kmh`.
/// - `network_jump`: a live session moved to another country or another ASN (both sides
///   known).
/// - `new_device` (at sign-in): the device family is missing from the user's sign-ins within
///   the window.
///
/// Unknown places and devices never raise a flag by themselves, and the first sign-in ever
/// (no history within the window) raises none.
public struct SessionRiskPolicy: Hashable, Sendable {
    /// How far back the history counts (`sessions.risk.history`).
    public var historyWindow: Duration
    /// `sessions.risk.max_speed_kmh`.
    public var maxSpeedKmh: Double
    /// What to do per kind (`sessions.risk.action`); `flag` when not named.
    public var actions: [SessionRiskKind: SessionRiskAction]
    /// The accuracy radius assumed for coordinates whose database gives none.
    public var assumedAccuracyRadiusKm: Double

    public static let defaultHistoryWindow: Duration = .seconds(90 * 86_400)
    public static let defaultMaxSpeedKmh = 900.0
    public static let defaultAssumedAccuracyRadiusKm = 50.0

    public init(
        historyWindow: Duration = defaultHistoryWindow,
        maxSpeedKmh: Double = defaultMaxSpeedKmh,
        actions: [SessionRiskKind: SessionRiskAction] = [:],
        assumedAccuracyRadiusKm: Double = defaultAssumedAccuracyRadiusKm
    ) {
        self.historyWindow = historyWindow
        self.maxSpeedKmh = maxSpeedKmh
        self.actions = actions
        self.assumedAccuracyRadiusKm = assumedAccuracyRadiusKm
    }

    public func action(for kind: SessionRiskKind) -> SessionRiskAction {
        actions[kind] ?? .flag
    }

    /// The flags `observation` raises against `history` (the user's earlier observations, in
    /// any order; entries outside the window are ignored).
    ///
    /// - Parameters:
    ///   - previousPlace: for an address change, where the session was before (for
    ///     `network_jump`); `nil` at sign-in.
    ///   - previousAddress, address: the client addresses, kept in `network_jump`'s evidence.
    public func assess(
        _ observation: SessionObservation,
        history: [SessionObservation],
        previousPlace: ObservedPlace? = nil,
        previousAddress: IPAddress? = nil,
        address: IPAddress? = nil
    ) -> SessionRiskAssessment {
        let windowStart = observation.at.addingTimeInterval(-historyWindow.secondsValue)
        let recent = history.filter { $0.at >= windowStart }
        let signIns = recent.filter { $0.event == .signIn }
        var raised: [SessionRiskEvidence] = []
        // A country or device is new at a sign-in; a live session that moves is a network jump.
        if observation.event == .signIn, let evidence = newCountry(observation, signIns: signIns) { raised.append(.newCountry(evidence)) }
        if let evidence = impossibleTravel(observation, recent: recent) { raised.append(.impossibleTravel(evidence)) }
        if observation.event == .addressChange, let previousPlace,
           let evidence = networkJump(from: previousPlace, to: observation.place, previousAddress: previousAddress, address: address) {
            raised.append(.networkJump(evidence))
        }
        if observation.event == .signIn, let evidence = newDevice(observation, signIns: signIns) { raised.append(.newDevice(evidence)) }
        return SessionRiskAssessment(flags: raised.map { SessionRiskFlag(evidence: $0, action: action(for: $0.kind)) })
    }

    // MARK: the signals

    func newCountry(_ observation: SessionObservation, signIns: [SessionObservation]) -> SessionRiskEvidence.NewCountry? {
        guard let country = observation.place.countryCode else { return nil }
        let known = Set(signIns.compactMap(\.place.countryCode))
        guard !known.isEmpty, !known.contains(country) else { return nil }
        return SessionRiskEvidence.NewCountry(place: observation.place, knownCountries: known.sorted(), windowSeconds: historyWindow.secondsValue)
    }

    func impossibleTravel(_ observation: SessionObservation, recent: [SessionObservation]) -> SessionRiskEvidence.Travel? {
        guard let here = observation.place.coordinates,
              let previous = recent.filter({ $0.place.coordinates != nil }).max(by: { $0.at < $1.at }),
              let there = previous.place.coordinates
        else { return nil }
        let distance = there.distanceKm(to: here)
        let uncertainty = (there.accuracyRadiusKm ?? assumedAccuracyRadiusKm) + (here.accuracyRadiusKm ?? assumedAccuracyRadiusKm)
            + 2 * GeoCoordinates.coarseRoundingKm
        let unexplained = distance - uncertainty
        guard unexplained > 0 else { return nil }
        // At least a second: two sign-ins in the same second from two continents are no less
        // impossible; and another instance's clock may run a little ahead.
        let hours = max(1, observation.at.timeIntervalSince(previous.at)) / 3_600
        let speed = unexplained / hours
        guard speed > maxSpeedKmh else { return nil }
        return SessionRiskEvidence.Travel(
            from: previous.place, to: observation.place, fromAt: previous.at, toAt: observation.at,
            distanceKm: distance.rounded(), uncertaintyKm: uncertainty.rounded(), speedKmh: speed.rounded(), maxSpeedKmh: maxSpeedKmh
        )
    }

    func networkJump(from: ObservedPlace, to: ObservedPlace, previousAddress: IPAddress?, address: IPAddress?) -> SessionRiskEvidence.NetworkJump? {
        let countryChanged = from.countryCode != nil && to.countryCode != nil && from.countryCode != to.countryCode
        let networkChanged = from.asn != nil && to.asn != nil && from.asn != to.asn
        guard countryChanged || networkChanged else { return nil }
        return SessionRiskEvidence.NetworkJump(
            from: from, to: to, fromAddress: previousAddress?.description, toAddress: address?.description,
            countryChanged: countryChanged, networkChanged: networkChanged
        )
    }

    func newDevice(_ observation: SessionObservation, signIns: [SessionObservation]) -> SessionRiskEvidence.NewDevice? {
        guard !observation.device.isUnknown else { return nil }
        let known = Set(signIns.map(\.device).filter { !$0.isUnknown })
        guard !known.isEmpty, !known.contains(observation.device) else { return nil }
        let sorted = known.sorted { $0.summary < $1.summary }
        return SessionRiskEvidence.NewDevice(device: observation.device, knownDevices: Array(sorted.prefix(10)), windowSeconds: historyWindow.secondsValue)
    }
}
