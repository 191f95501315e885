import Foundation

extension RequestTarget {
    /// The query parameters through which frameworks take another method than the request's:
    /// `_method` (Symfony and Laravel read it from a POST's query as well as its body; Rails
    /// and Express's `method-override` from the body), and the method-override header names,
    /// which some read from the query too. Compared without regard to ASCII case.
    static let methodOverrideParameters: Set<String> = ["_method", "x-http-method-override", "x-http-method", "x-method-override"]

    /// The methods the query asks for through ``methodOverrideParameters``, upper-cased and
    /// percent-decoded (`?_method=delete` is `DELETE`); empty without any. A route's `methods:`
    /// must allow each of them as it must allow the request's own method, as the gateway
    /// strips the headers of the same names.
    public var methodOverrides: [String] {
        // Every name holds a `_` or a `-`, written or percent-encoded.
        guard let query, query.utf8.contains(where: { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "%") }) else {
            return []
        }
        var methods: [String] = []
        for pair in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decodedQueryText(parts[0]).lowercased()
            guard Self.methodOverrideParameters.contains(key) else { continue }
            let value = parts.count > 1 ? Self.decodedQueryText(parts[1]) : ""
            methods.append(value.trimmingCharacters(in: .whitespaces).uppercased())
        }
        return methods
    }

    /// Form decoding: `+` as a space, then percent-decoding (the text as written when it does
    /// not decode).
    private static func decodedQueryText(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
