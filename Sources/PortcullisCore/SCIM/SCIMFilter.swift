/// A SCIM filter (RFC 7644 §3.4.2.2): comparisons, presence, value paths
/// (`emails[type eq "work" and value co "@example.com"]`) and `and`, `or`, `not`. Parse with
/// ``init(parsing:)``, check against a resource type with ``validate(for:)`` and evaluate with
/// ``matches(_:type:)``.
public indirect enum SCIMFilter: Hashable, Sendable {
    /// `attribute pr`.
    case present(SCIMAttributePath)
    /// `attribute op value`.
    case compare(SCIMAttributePath, SCIMComparison, SCIMFilterValue)
    /// `attribute[filter]`: the inner filter's paths name sub-attributes of `attribute`, and
    /// one value of `attribute` must match all of it.
    case valuePath(SCIMAttributePath, SCIMFilter)
    case not(SCIMFilter)
    case and(SCIMFilter, SCIMFilter)
    case or(SCIMFilter, SCIMFilter)

    /// The longest filter accepted, in bytes.
    public static let maximumLength = 4_096
    /// The most comparisons one filter may hold.
    public static let maximumTerms = 64
    /// The deepest nesting of parentheses, `not` and value paths.
    public static let maximumDepth = 16
}

public enum SCIMComparison: String, Hashable, Sendable, CaseIterable {
    case eq, ne, co, sw, ew, gt, lt, ge, le
}

/// `compValue = false / null / true / number / string`.
public enum SCIMFilterValue: Hashable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
}
