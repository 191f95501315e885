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
        // Every name ends in `method`, written or percent-encoded.
        guard let query, query.utf8.contains(UInt8(ascii: "%")) || query.lowercased().contains("method") else {
            return []
        }
        var methods: [String] = []
        for pair in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.phpName(Self.decodedQueryText(parts[0])).lowercased()
            guard Self.methodOverrideParameters.contains(key) else { continue }
            let value = parts.count > 1 ? Self.decodedQueryText(parts[1]) : ""
            methods.append(value.trimmingCharacters(in: .whitespaces).uppercased())
        }
        return methods
    }

    /// A parameter name as PHP files it in `$_GET` (and so Symfony and Laravel read it): leading
    /// spaces dropped, cut at a NUL, and ` `, `.` and `[` written `_` (`?.method=`, `?[method=`
    /// and `?+_method=` are all `_method` to it). Harmless for other frameworks' names.
    static func phpName(_ name: String) -> String {
        var scalars = name.unicodeScalars.drop { $0 == " " }
        if let nul = scalars.firstIndex(of: "\u{0}") { scalars = scalars[..<nul] }
        var mangled = String.UnicodeScalarView()
        for scalar in scalars {
            mangled.append(scalar == " " || scalar == "." || scalar == "[" ? "_" : scalar)
        }
        return String(mangled)
    }

    /// Form decoding: `+` as a space, then percent-decoding (the text as written when it does
    /// not decode).
    private static func decodedQueryText(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
