import HTTPTypes

/// Header names the control plane reads and writes, checked once. These are literals: a bad
/// one is a programming error caught by the first test that touches it.
extension HTTPField.Name {
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let origin = HTTPField.Name("Origin")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let portcullisReason = HTTPField.Name("X-Portcullis-Reason")!
}
