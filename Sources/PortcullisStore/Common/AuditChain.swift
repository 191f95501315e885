import Crypto
import Foundation
import PortcullisCore

/// The audit log's hash chain, the same for SQLite and PostgreSQL. Each row stores its entry as
/// JSON text (`body`, which names the previous row's hash) and `hash = SHA-256(body)`; the
/// filterable columns repeat what the body says. Verification recomputes every hash from the
/// stored text, follows the links and compares the columns with the body, so an edited,
/// deleted or reordered row is found. The newest row's hash is also kept as the chain's head,
/// so that deleting rows at the end is found too.
enum AuditChain {
    /// A stored row, as read back.
    struct Row: Sendable {
        var sequence: Int64
        var at: Double
        var actor: String
        var actorIsSuperAdmin: Bool
        var action: String
        var target: String
        var body: String
        var previousHash: String
        var hash: String
    }

    /// The newest row's sequence number and hash.
    struct Head: Codable, Hashable, Sendable {
        var sequence: Int64
        var hash: String
    }

    /// The row to append after `head`.
    static func row(for event: AuditEvent, after head: Head?) -> Row {
        let sequence = (head?.sequence ?? 0) + 1
        let previous = head?.hash ?? AuditEntry.genesisHash
        // The body says the time in milliseconds; the column holds the same instant.
        let at = Date(timeIntervalSince1970: (event.context.at.timeIntervalSince1970 * 1_000).rounded() / 1_000)
        let entry = AuditEntry(
            sequence: sequence, at: at, actor: event.context.actor,
            actorIsSuperAdmin: event.context.actorIsSuperAdmin, action: event.action, target: event.target,
            before: event.before, after: event.after, sourceIP: event.context.sourceIP, previousHash: previous, hash: ""
        )
        let body = encode(entry)
        return Row(
            sequence: sequence, at: at.timeIntervalSince1970, actor: entry.actor,
            actorIsSuperAdmin: entry.actorIsSuperAdmin, action: entry.action.rawValue, target: entry.target,
            body: body, previousHash: previous, hash: hash(body)
        )
    }

    static func hash(_ body: String) -> String {
        SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The entry a row holds; `nil` when the body is not an entry.
    static func entry(_ row: Row) -> AuditEntry? {
        guard var entry = try? decoder.decode(AuditEntry.self, from: Data(row.body.utf8)) else { return nil }
        entry.hash = row.hash
        return entry
    }

    static func verify(_ rows: [Row], head: Head?) -> AuditVerification {
        var previous = AuditEntry.genesisHash
        var expectedSequence: Int64 = 1
        for row in rows {
            func broken(_ problem: String) -> AuditVerification {
                AuditVerification(entries: rows.count, brokenAt: row.sequence, problem: problem)
            }
            guard row.sequence == expectedSequence else {
                return broken("entry \(expectedSequence) is missing (found \(row.sequence) next)")
            }
            guard hash(row.body) == row.hash else {
                return broken("entry \(row.sequence) was altered: its hash does not match its contents")
            }
            guard row.previousHash == previous else {
                return broken("entry \(row.sequence) does not follow entry \(row.sequence - 1): the chain is broken")
            }
            guard let entry = entry(row) else {
                return broken("entry \(row.sequence) cannot be read")
            }
            guard entry.sequence == row.sequence, entry.previousHash == row.previousHash, entry.actor == row.actor,
                  entry.actorIsSuperAdmin == row.actorIsSuperAdmin, entry.action.rawValue == row.action,
                  entry.target == row.target, abs(entry.at.timeIntervalSince1970 - row.at) < 0.001
            else {
                return broken("entry \(row.sequence) was altered: its columns differ from its hashed contents")
            }
            previous = row.hash
            expectedSequence += 1
        }
        let last = rows.last.map { Head(sequence: $0.sequence, hash: $0.hash) }
        if last != head {
            let count = rows.count
            switch (last, head) {
            case (_, .some(let head)) where head.sequence > (last?.sequence ?? 0):
                return AuditVerification(
                    entries: count, brokenAt: (last?.sequence ?? 0) + 1,
                    problem: "entries after \(last?.sequence ?? 0) were deleted (the log's head is entry \(head.sequence))"
                )
            default:
                return AuditVerification(
                    entries: count, brokenAt: last?.sequence,
                    problem: "the log's head does not match its newest entry"
                )
            }
        }
        return AuditVerification(entries: rows.count)
    }

    static func encode(_ entry: AuditEntry) -> String {
        guard let data = try? encoder.encode(entry) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// One encoding for every row: sorted keys, the time in RFC 3339 (UTC, milliseconds when
    /// they are not zero), no `hash` (a body cannot hold its own hash; the row's column does).
    /// Rows written by earlier builds (before issue 28) say the time in seconds since 1970 and `"hash":""`; they are
    /// read, verified and exported as they were hashed.
    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self)
            guard let date = date(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an RFC 3339 time, got \(text)")
            }
            return date
        }
        return decoder
    }

    /// `2026-12-07T16:20:00Z`, or `2026-12-07T16:20:00.250Z` when the milliseconds are not zero.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1_000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1_000 : (milliseconds - 999) / 1_000
        let fraction = milliseconds - seconds * 1_000
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
        guard fraction != 0 else { return whole }
        let digits = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
