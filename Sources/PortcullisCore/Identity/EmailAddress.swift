/// How emails compare (SPEC §2, account linking): by ASCII case folding only. Full Unicode
/// case mapping is never used for matching: it maps U+212A KELVIN SIGN to `k`, which would let
/// `\u{212A}elvin@example.com` reach `kelvin@example.com`'s account.
public enum EmailAddress {
    /// The key an email is stored and looked up by: ASCII letters lower-cased, nothing else
    /// changed.
    public static func key(_ email: some StringProtocol) -> String {
        String(decoding: email.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    public static func isASCII(_ email: some StringProtocol) -> Bool {
        email.utf8.allSatisfy { $0 < 0x80 }
    }
}
