import Foundation

/// `application/x-www-form-urlencoded` bodies and query strings.
package enum FormBody {
    package static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }

    package static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    package static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(OIDCProviderClient.formEncode($0))=\(OIDCProviderClient.formEncode($1))" }.joined(separator: "&")
    }
}
