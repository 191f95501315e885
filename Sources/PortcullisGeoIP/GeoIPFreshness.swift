import Foundation

/// How old a GeoIP database may be before the gateway says so. Networks change hands and
/// countries: DB-IP and MaxMind publish monthly, and a country rule decides on what the file
/// says, so a file left in place for months decides on old data without anyone noticing.
public enum GeoIPFreshness {
    /// Past this age a database is stale (two monthly releases missed).
    public static let staleAfter: TimeInterval = 60 * 86_400

    /// When `database` was built (its metadata's `build_epoch`).
    public static func builtAt(_ database: MaxMindDatabase) -> Date {
        Date(timeIntervalSince1970: TimeInterval(database.buildEpoch))
    }

    /// A warning naming the file, its build date and age, and what to do, when `database` is
    /// older than ``staleAfter`` at `now`; `nil` when it is fresh enough.
    public static func warning(for database: MaxMindDatabase, now: Date) -> String? {
        let built = builtAt(database)
        let age = now.timeIntervalSince(built)
        guard age > staleAfter else { return nil }
        let day = built.formatted(.iso8601.year().month().day())
        return "the GeoIP database \(database.path) was built on \(day), \(Int(age / 86_400)) days ago (more than "
            + "\(Int(staleAfter / 86_400))): country and network rules decide on old data; install DB-IP's or MaxMind's "
            + "current monthly file and reload (SIGHUP), as the README's \"GeoIP data ages\" says"
    }
}
