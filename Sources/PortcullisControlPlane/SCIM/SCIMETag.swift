import Foundation

/// SCIM resource versions as entity tags (RFC 7644 §3.14): `meta.version` and the `ETag`
/// header are `W/"<version>"`; `If-Match` makes PUT, PATCH and DELETE compare-and-set (412
/// when the resource changed), `If-None-Match` lets a GET answer 304.
enum SCIMETag {
    static func tag(_ version: Int) -> String { "W/\"\(version)\"" }

    /// An `If-Match` or `If-None-Match` header.
    enum Condition: Hashable {
        /// `*`.
        case any
        /// The versions listed (tags that are not ours are never matched).
        case versions(Set<Int>)

        init?(_ header: String?) {
            guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
            if header == "*" {
                self = .any
                return
            }
            var versions = Set<Int>()
            for part in header.split(separator: ",").prefix(32) {
                var text = part.trimmingCharacters(in: .whitespaces)[...]
                if text.hasPrefix("W/") { text = text.dropFirst(2) }
                guard text.count >= 2, text.first == "\"", text.last == "\"", let version = Int(text.dropFirst().dropLast()) else { continue }
                versions.insert(version)
            }
            self = .versions(versions)
        }

        func matches(_ version: Int) -> Bool {
            switch self {
            case .any: true
            case .versions(let versions): versions.contains(version)
            }
        }
    }
}
