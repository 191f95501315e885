#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SessionRiskEvidence {
    /// The flag's reason in words, for the console, the audit log and the webhook:
    /// `Sydney, AU → Berlin, DE in 12 min (80,000 km/h)`.
    public var reason: String {
        switch self {
        case .newCountry(let evidence):
            let country = evidence.place.countryCode ?? "an unknown country"
            return "\(evidence.place.summary): no sign-in from \(country) in the last \(ReasonText.window(evidence.windowSeconds))"
                + " (known: \(ReasonText.list(evidence.knownCountries)))"
        case .impossibleTravel(let evidence):
            return "\(evidence.from.summary) → \(evidence.to.summary) in \(ReasonText.elapsed(evidence.elapsedSeconds))"
                + " (\(ReasonText.grouped(ReasonText.roundedSpeed(evidence.speedKmh))) km/h)"
        case .networkJump(let evidence):
            let what = switch (evidence.countryChanged, evidence.networkChanged) {
            case (true, true): "another country and network"
            case (true, false): "another country"
            default: "another network"
            }
            return "\(evidence.from.summaryWithNetwork) → \(evidence.to.summaryWithNetwork): the session moved to \(what)"
        case .newDevice(let evidence):
            return "\(evidence.device.summary): not used in the last \(ReasonText.window(evidence.windowSeconds))"
                + " (known: \(ReasonText.list(evidence.knownDevices.map(\.summary))))"
        }
    }
}

/// Numbers, durations and lists in words, independent of the machine's locale.
enum ReasonText {
    /// `16,000`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// Three significant figures are plenty for a speed nobody can reach: 95,760 → 95,800.
    static func roundedSpeed(_ speed: Double) -> Int {
        guard speed.isFinite else { return Int.max }
        var scale = 1.0
        while speed / scale >= 1_000 { scale *= 10 }
        return Int(min((speed / scale).rounded() * scale, Double(Int.max / 2)))
    }

    /// `12 s`, `12 min`, `3 h 5 min`, `2 d 3 h`.
    static func elapsed(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        if total < 60 { return "\(total) s" }
        if total < 3_600 { return "\(total / 60) min" }
        if total < 86_400 { return "\(total / 3_600) h" + (total % 3_600 >= 60 ? " \(total % 3_600 / 60) min" : "") }
        return "\(total / 86_400) d" + (total % 86_400 >= 3_600 ? " \(total % 86_400 / 3_600) h" : "")
    }

    /// `90 days`, `12 hours`.
    static func window(_ seconds: Double) -> String {
        let days = Int((seconds / 86_400).rounded())
        if days >= 1, abs(seconds - Double(days) * 86_400) < 1 { return days == 1 ? "day" : "\(days) days" }
        let hours = max(1, Int((seconds / 3_600).rounded()))
        return hours == 1 ? "hour" : "\(hours) hours"
    }

    /// `AU, DE and 3 more`.
    static func list(_ items: [String]) -> String {
        guard !items.isEmpty else { return "none" }
        let shown = items.prefix(3).joined(separator: ", ")
        return items.count > 3 ? "\(shown) and \(items.count - 3) more" : shown
    }
}
