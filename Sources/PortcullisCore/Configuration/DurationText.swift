/// Durations as the configuration writes them: `500ms`, `5s`, `90m`, `8h`, `2d`, `1h30m`.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        guard !text.isEmpty, text.utf8.count <= 32 else { return nil }
        var total = Duration.zero
        var digits = ""
        var unit = ""
        var pieces: [(Int64, String)] = []
        for character in text {
            if character.isASCIIDigit {
                if !unit.isEmpty {
                    guard let value = Int64(digits) else { return nil }
                    pieces.append((value, unit))
                    digits = ""
                    unit = ""
                }
                digits.append(character)
            } else if character.isASCII, character.isLetter {
                guard !digits.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, !unit.isEmpty, let last = Int64(digits) else { return nil }
        pieces.append((last, unit))
        for (value, unit) in pieces {
            guard value <= 1_000_000 else { return nil }
            switch unit {
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3_600)
            case "d": total += .seconds(value * 86_400)
            default: return nil
            }
        }
        return total
    }

    /// The shortest exact text: `8h`, `90m`, `1500ms`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 1_000 != 0 { return "\(milliseconds)ms" }
        if seconds % 86_400 == 0, seconds != 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0, seconds != 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0, seconds != 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

extension Duration {
    /// Whole seconds, rounded down.
    public var wholeSeconds: Int64 { components.seconds }

    /// Seconds as a floating-point number.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Sizes as the configuration writes them: `16384`, `16KiB`, `1MiB`, `64KB`.
public enum ByteCountText {
    public static func parse(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCIIDigit }
        let unit = text.dropFirst(digits.count)
        guard !digits.isEmpty, digits.count <= 12, let value = Int(digits) else { return nil }
        let multiplier: Int
        switch unit {
        case "", "B": multiplier = 1
        case "KiB": multiplier = 1_024
        case "MiB": multiplier = 1_048_576
        case "GiB": multiplier = 1_073_741_824
        case "KB", "kB": multiplier = 1_000
        case "MB": multiplier = 1_000_000
        case "GB": multiplier = 1_000_000_000
        default: return nil
        }
        return value * multiplier
    }
}
