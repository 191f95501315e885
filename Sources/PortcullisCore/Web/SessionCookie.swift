/// The session cookie's name and attributes (SPEC §3).
package enum SessionCookie {
    package static let name = "__Host-portcullis"
    /// The short-lived cookie that binds a login's `state` to the browser.
    package static let loginStateName = "__Host-portcullis-login"
    package static let allNames = [name, loginStateName]
}
