import Foundation
import PortcullisCore
import PortcullisTestSupport
import Testing

@Suite("Suspicious sessions: the signals")
struct SessionRiskPolicyTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let sydney = ObservedPlace(
        countryCode: "AU", city: "Sydney", coordinates: GeoCoordinates(latitude: -33.8688, longitude: 151.2093, accuracyRadiusKm: 20),
        asn: 64_498
    )
    static let berlin = ObservedPlace(
        countryCode: "DE", city: "Berlin", coordinates: GeoCoordinates(latitude: 52.52, longitude: 13.405, accuracyRadiusKm: 20), asn: 64_497
    )
    static let potsdam = ObservedPlace(
        countryCode: "DE", city: "Potsdam", coordinates: GeoCoordinates(latitude: 52.39, longitude: 13.06, accuracyRadiusKm: 20), asn: 64_510
    )
    static let tokyo = ObservedPlace(
        countryCode: "JP", city: "Tokyo", coordinates: GeoCoordinates(latitude: 35.6762, longitude: 139.6503, accuracyRadiusKm: 50), asn: 64_499
    )
    static let firefox = DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop)
    static let safari = DeviceInfo(browser: "Safari", os: "iOS", type: .mobile)

    static func signIn(_ place: ObservedPlace, at offset: TimeInterval, device: DeviceInfo = firefox) -> SessionObservation {
        SessionObservation(at: t0.addingTimeInterval(offset), event: .signIn, place: place, device: device)
    }

    let policy = SessionRiskPolicy()

    func kinds(_ assessment: SessionRiskAssessment) -> [SessionRiskKind] {
        assessment.flags.map(\.kind)
    }

    // MARK: the story of the issue

    @Test("Sydney, then Berlin ten minutes later: impossible travel and a new country, in words")
    func sydneyThenBerlin() throws {
        let history = [Self.signIn(Self.sydney, at: 0)]
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 600), history: history)
        #expect(kinds(assessment) == [.newCountry, .impossibleTravel])
        let travel = try #require(assessment.flags.first { $0.kind == .impossibleTravel })
        #expect(travel.reason == "Sydney, AU → Berlin, DE in 10 min (96,200 km/h)")
        guard case .impossibleTravel(let evidence) = travel.evidence else { Issue.record("wrong evidence"); return }
        #expect(abs(evidence.distanceKm - 16_000) < 200, "the great-circle distance Sydney–Berlin is about 16,000 km")
        #expect(evidence.maxSpeedKmh == 900)
        let country = try #require(assessment.flags.first { $0.kind == .newCountry })
        #expect(country.reason == "Berlin, DE: no sign-in from DE in the last 90 days (known: AU)")
        #expect(assessment.action == .flag, "flag is the default action")
    }

    @Test("the first sign-in ever flags nothing")
    func firstSignIn() {
        #expect(policy.assess(Self.signIn(Self.berlin, at: 0), history: []).flags.isEmpty)
    }

    @Test("signing in again from the same place and device flags nothing")
    func samePlace() {
        let history = [Self.signIn(Self.berlin, at: 0), Self.signIn(Self.sydney, at: -30 * 86_400)]
        #expect(policy.assess(Self.signIn(Self.berlin, at: 3_600), history: history).flags.isEmpty)
    }

    // MARK: impossible travel

    @Test("a flight is possible: Sydney to Berlin in a day is not flagged as travel")
    func flightIsPossible() {
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 86_400), history: [Self.signIn(Self.sydney, at: 0)])
        #expect(kinds(assessment) == [.newCountry])
    }

    @Test("the accuracy radii explain short hops: Berlin to Potsdam (about 26 km) within a minute is not travel")
    func accuracyRadius() {
        let assessment = policy.assess(Self.signIn(Self.potsdam, at: 60), history: [Self.signIn(Self.berlin, at: 0)])
        #expect(!kinds(assessment).contains(.impossibleTravel))
    }

    @Test("the accuracy radius is subtracted from the distance, not ignored", arguments: [
        // 1,000 km in an hour: over 900 km/h with tight radii, under it once 100 km radii are subtracted.
        (1.0, true), (100.0, false),
    ])
    func radiusMatters(radius: Double, flagged: Bool) throws {
        let a = try #require(GeoCoordinates(latitude: 0, longitude: 0, accuracyRadiusKm: radius))
        let eastward = 1_000 / (GeoCoordinates.earthRadiusKm * Double.pi / 180)
        let b = try #require(GeoCoordinates(latitude: 0, longitude: eastward, accuracyRadiusKm: radius))
        let here = ObservedPlace(countryCode: "XA", city: "A", coordinates: a)
        let there = ObservedPlace(countryCode: "XA", city: "B", coordinates: b)
        let assessment = policy.assess(Self.signIn(there, at: 3_600), history: [Self.signIn(here, at: 0)])
        #expect(kinds(assessment).contains(.impossibleTravel) == flagged)
    }

    @Test("max_speed_kmh is the threshold")
    func threshold() {
        let history = [Self.signIn(Self.sydney, at: 0)]
        let slow = SessionRiskPolicy(maxSpeedKmh: 100_000)
        #expect(!kinds(slow.assess(Self.signIn(Self.berlin, at: 600), history: history)).contains(.impossibleTravel))
        let strict = SessionRiskPolicy(maxSpeedKmh: 300)
        #expect(kinds(strict.assess(Self.signIn(Self.berlin, at: 86_400), history: history)).contains(.impossibleTravel))
    }

    @Test("two sign-ins in the same second, or with the clock running backwards, still compute a finite speed")
    func sameInstant() throws {
        for offset in [0.0, -30.0] {
            let assessment = policy.assess(Self.signIn(Self.berlin, at: offset), history: [Self.signIn(Self.sydney, at: 0)])
            let travel = try #require(assessment.flags.first { $0.kind == .impossibleTravel })
            guard case .impossibleTravel(let evidence) = travel.evidence else { return }
            #expect(evidence.speedKmh.isFinite)
        }
    }

    @Test("travel is measured from the latest located observation, address changes included")
    func latestObservation() {
        let history = [
            Self.signIn(Self.sydney, at: 0),
            SessionObservation(at: Self.t0.addingTimeInterval(20 * 3_600), event: .addressChange, place: Self.tokyo, device: Self.firefox),
        ]
        // From Tokyo (20 h after Sydney) to Berlin in 10 minutes.
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 20 * 3_600 + 600), history: history)
        let travel = assessment.flags.first { $0.kind == .impossibleTravel }
        #expect(travel?.reason.hasPrefix("Tokyo, JP → Berlin, DE in 10 min") == true)
    }

    // MARK: unknown places

    @Test("an unknown place is never a flag by itself", arguments: [
        ObservedPlace(),
        ObservedPlace(asn: 64_500),
        ObservedPlace(countryCode: nil, city: "Somewhere"),
    ])
    func unknownPlace(place: ObservedPlace) {
        let history = [Self.signIn(Self.sydney, at: 0)]
        #expect(policy.assess(Self.signIn(place, at: 600), history: history).flags.isEmpty)
        // Nor does an unknown history make a known place suspicious.
        #expect(policy.assess(Self.signIn(Self.berlin, at: 600), history: [Self.signIn(place, at: 0)]).flags.isEmpty)
    }

    @Test("a country without coordinates can be new, but not travel")
    func countryOnly() {
        let netherlands = ObservedPlace(countryCode: "NL")
        let assessment = policy.assess(Self.signIn(netherlands, at: 60), history: [Self.signIn(Self.sydney, at: 0)])
        #expect(kinds(assessment) == [.newCountry])
    }

    // MARK: the window

    @Test("history outside the window is forgotten: an old country is new again, an old place is no travel origin")
    func window() {
        let history = [Self.signIn(Self.berlin, at: -100 * 86_400), Self.signIn(Self.sydney, at: -10)]
        #expect(kinds(policy.assess(Self.signIn(Self.berlin, at: 0), history: history)) == [.newCountry, .impossibleTravel])
        let short = SessionRiskPolicy(historyWindow: .seconds(5))
        #expect(short.assess(Self.signIn(Self.berlin, at: 0), history: history).flags.isEmpty, "nothing within 5 s: like a first sign-in")
    }

    @Test("only sign-ins make a country known: an address change to a country is not a sign-in from it")
    func addressChangesDoNotMakeCountriesKnown() {
        let history = [
            Self.signIn(Self.sydney, at: 0),
            SessionObservation(at: Self.t0.addingTimeInterval(86_400), event: .addressChange, place: Self.berlin, device: Self.firefox),
        ]
        #expect(kinds(policy.assess(Self.signIn(Self.berlin, at: 2 * 86_400), history: history)) == [.newCountry])
    }

    // MARK: network jumps

    @Test("a live session moving to another country or ASN is a network jump; IPv6 addresses are kept as evidence")
    func networkJump() throws {
        let change = SessionObservation(at: Self.t0.addingTimeInterval(30), event: .addressChange, place: Self.tokyo, device: Self.firefox)
        let assessment = policy.assess(
            change, history: [Self.signIn(Self.berlin, at: 0)], previousPlace: Self.berlin,
            previousAddress: .literal("198.51.100.7"), address: .literal("2001:db8::1")
        )
        #expect(kinds(assessment) == [.impossibleTravel, .networkJump], "an address change is no sign-in: no new_country")
        let jump = try #require(assessment.flags.first { $0.kind == .networkJump })
        #expect(jump.reason == "Berlin, DE (AS64497) → Tokyo, JP (AS64499): the session moved to another country and network")
        guard case .networkJump(let evidence) = jump.evidence else { return }
        #expect(evidence.fromAddress == "198.51.100.7")
        #expect(evidence.toAddress == "2001:db8::1")
    }

    @Test("another network in the same country is a jump; the same network and country is not; unknowns are not", arguments: [
        (berlin, potsdam, true),
        (berlin, berlin, false),
        (berlin, ObservedPlace(), false),
        (ObservedPlace(), berlin, false),
        (ObservedPlace(countryCode: "DE"), ObservedPlace(countryCode: "DE", asn: 1), false),
    ])
    func jumpCases(from: ObservedPlace, to: ObservedPlace, flagged: Bool) {
        let change = SessionObservation(at: Self.t0.addingTimeInterval(3_600), event: .addressChange, place: to, device: Self.firefox)
        let assessment = policy.assess(change, history: [], previousPlace: from)
        #expect(kinds(assessment).contains(.networkJump) == flagged)
    }

    @Test("a sign-in is never a network jump")
    func signInIsNoJump() {
        let assessment = policy.assess(Self.signIn(Self.tokyo, at: 86_400), history: [Self.signIn(Self.berlin, at: 0)], previousPlace: Self.berlin)
        #expect(!kinds(assessment).contains(.networkJump))
    }

    // MARK: devices

    @Test("a browser/OS/device family not used in the window is a new device; unknown devices never are")
    func newDevice() throws {
        let history = [Self.signIn(Self.berlin, at: 0, device: Self.firefox)]
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 60, device: Self.safari), history: history)
        #expect(kinds(assessment) == [.newDevice])
        #expect(assessment.flags.first?.reason == "Safari on iOS (mobile): not used in the last 90 days (known: Firefox on Linux (desktop))")
        #expect(policy.assess(Self.signIn(Self.berlin, at: 60, device: .unknown), history: history).flags.isEmpty)
        #expect(policy.assess(Self.signIn(Self.berlin, at: 60, device: Self.safari), history: [Self.signIn(Self.berlin, at: 0, device: .unknown)])
            .flags.isEmpty)
        // The same family with another type (a tablet) is another device.
        let tablet = DeviceInfo(browser: "Firefox", os: "Linux", type: .tablet)
        #expect(kinds(policy.assess(Self.signIn(Self.berlin, at: 60, device: tablet), history: history)) == [.newDevice])
    }

    // MARK: actions

    @Test("actions per kind; the strongest wins; flag when not named")
    func actions() {
        let strict = SessionRiskPolicy(actions: [.impossibleTravel: .deny, .newCountry: .stepUp])
        let assessment = strict.assess(Self.signIn(Self.berlin, at: 600), history: [Self.signIn(Self.sydney, at: 0)])
        #expect(assessment.flags.map(\.action) == [.stepUp, .deny])
        #expect(assessment.action == .deny)
        #expect(strict.action(for: .newDevice) == .flag)
        #expect(SessionRiskAssessment(flags: []).action == nil)
    }

    // MARK: evidence

    @Test("evidence round-trips through JSON with its kind")
    func evidenceCoding() throws {
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 600, device: Self.safari), history: [Self.signIn(Self.sydney, at: 0)])
        for flag in assessment.flags {
            let data = try JSONEncoder().encode(flag.evidence)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["kind"] as? String == flag.kind.rawValue)
            #expect(try JSONDecoder().decode(SessionRiskEvidence.self, from: data) == flag.evidence)
        }
    }

    @Test("evidence for people and programs has ISO 8601 times")
    func evidenceForPeople() throws {
        let assessment = policy.assess(Self.signIn(Self.berlin, at: 600), history: [Self.signIn(Self.sydney, at: 0)])
        let travel = try #require(assessment.flags.first { $0.kind == .impossibleTravel })
        guard case .object(let object) = travel.evidence.jsonValue else { Issue.record("not an object"); return }
        #expect(object["kind"] == .string("impossible_travel"))
        #expect(object["from_at"] == .string("2027-01-15T08:00:00Z"))
        #expect(object["to_at"] == .string("2027-01-15T08:10:00Z"))
    }

    @Test("coordinates are kept coarse, and impossible ones are refused")
    func coordinates() throws {
        let precise = try #require(GeoCoordinates(latitude: 52.5234, longitude: 13.4115, accuracyRadiusKm: 5))
        #expect(precise.coarsened.latitude == 52.5)
        #expect(precise.coarsened.longitude == 13.4)
        #expect(ObservedPlace(coordinates: precise).coordinates == precise.coarsened)
        #expect(GeoCoordinates(latitude: 91, longitude: 0) == nil)
        #expect(GeoCoordinates(latitude: 0, longitude: .nan) == nil)
        #expect(GeoCoordinates(latitude: 0, longitude: 0, accuracyRadiusKm: -1) == nil)
        // Across the antimeridian: a short hop, not half the globe.
        let west = try #require(GeoCoordinates(latitude: 0, longitude: 179.9))
        let east = try #require(GeoCoordinates(latitude: 0, longitude: -179.9))
        #expect(west.distanceKm(to: east) < 25)
    }

    static let wordCases: [(Double, Double, String)] = [
        (95_760, 600, "in 10 min (95,800 km/h)"), (16_000, 45, "in 45 s (16,000 km/h)"),
        (912.4, 11_100, "in 3 h 5 min (912 km/h)"), (1_234_567, 180_000, "in 2 d 2 h (1,230,000 km/h)"),
    ]

    @Test("speeds and durations in words", arguments: wordCases)
    func words(speed: Double, seconds: Double, words: String) {
        let evidence = SessionRiskEvidence.impossibleTravel(.init(
            from: Self.sydney, to: Self.berlin, fromAt: Self.t0, toAt: Self.t0.addingTimeInterval(seconds), distanceKm: 16_000,
            uncertaintyKm: 56, speedKmh: speed, maxSpeedKmh: 900
        ))
        #expect(evidence.reason == "Sydney, AU → Berlin, DE " + words)
    }
}
