/// A named list of CIDR ranges, each with a label (SPEC §4). Lookups answer with the most
/// specific entry that contains the address, in O(log n) over a flattened interval table.
public struct Greenlist: Hashable, Sendable {
    public struct Entry: Hashable, Sendable, Codable {
        public let range: IPRange
        public let label: String

        public init(range: IPRange, label: String) {
            self.range = range
            self.label = label
        }

        enum CodingKeys: String, CodingKey { case cidr, label }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let text = try container.decode(String.self, forKey: .cidr)
            do {
                range = try IPRange(parsing: text)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .cidr, in: container, debugDescription: error.description)
            }
            label = try container.decodeIfPresent(String.self, forKey: .label) ?? ""
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(range.description, forKey: .cidr)
            try container.encode(label, forKey: .label)
        }
    }

    public let name: String
    public let entries: [Entry]
    private let index: IntervalIndex

    public init(name: String, entries: [Entry]) {
        self.name = name
        self.entries = entries
        self.index = IntervalIndex(entries.map(\.range))
    }

    /// The most specific entry containing the address, or `nil` when the list does not.
    public func match(_ address: IPAddress) -> Entry? {
        index.lookup(address.value).map { entries[$0] }
    }

    public func contains(_ address: IPAddress) -> Bool {
        index.lookup(address.value) != nil
    }

    public static func == (lhs: Greenlist, rhs: Greenlist) -> Bool {
        lhs.name == rhs.name && lhs.entries == rhs.entries
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(entries)
    }
}

/// CIDR ranges nest or are disjoint, never partly overlap. This table cuts the address space
/// into disjoint intervals, each labelled with the innermost range covering it, so a lookup is
/// one binary search.
struct IntervalIndex: Sendable {
    private var starts: [UInt128] = []
    private var ends: [UInt128] = []
    private var owners: [Int] = []

    init(_ ranges: [IPRange]) {
        // Widest first at equal starts; on exact duplicates the first listed entry wins.
        let order = ranges.indices.sorted { a, b in
            let ra = ranges[a], rb = ranges[b]
            if ra.first != rb.first { return ra.first < rb.first }
            if ra.prefixLength128 != rb.prefixLength128 { return ra.prefixLength128 < rb.prefixLength128 }
            return a < b
        }
        var stack: [Int] = []
        var cursor: UInt128 = 0
        var cursorPastEnd = false

        func emit(_ start: UInt128, _ end: UInt128, _ owner: Int) {
            guard start <= end else { return }
            starts.append(start)
            ends.append(end)
            owners.append(owner)
        }
        /// Closes the innermost open range: emits what is left of it and moves past it.
        func closeTop() {
            guard let top = stack.popLast(), !cursorPastEnd else { return }
            let end = ranges[top].last.value
            emit(cursor, end, top)
            if end == UInt128.max {
                cursorPastEnd = true
            } else {
                cursor = max(cursor, end + 1)
            }
        }

        for position in order {
            let range = ranges[position]
            let start = range.first.value
            if let top = stack.last, ranges[top] == range { continue }
            while let top = stack.last, ranges[top].last.value < start {
                closeTop()
            }
            if let top = stack.last, cursor < start {
                emit(cursor, start - 1, top)
            }
            cursor = start
            stack.append(position)
        }
        while !stack.isEmpty { closeTop() }
    }

    func lookup(_ value: UInt128) -> Int? {
        // Last interval whose start <= value.
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        let candidate = low - 1
        guard candidate >= 0, value <= ends[candidate] else { return nil }
        return owners[candidate]
    }

    var intervalCount: Int { starts.count }
}
