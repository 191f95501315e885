import Foundation

/// Where a browser that must sign in is sent: `/_portcullis/login?rd=<the page it asked for>`.
/// The login endpoint checks `rd` again before it redirects anywhere (no open redirect). A
/// route that needs MFA adds `mfa=1`; a session that must sign in afresh (`step_up`, or a sign-in
/// older than the route's `max_auth_age`) adds
/// `reauth=1`: the login then asks the IdP for `prompt=login` and `max_age=0`.
enum LoginRedirect {
    static func location(returningTo uri: String, reason: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        let encoded = uri.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/"
        var location = "/_portcullis/login?rd=\(encoded)"
        if reason == "mfa_required" { location += "&mfa=1" }
        if reason == "step_up_required" || reason == "reauthentication_required" { location += "&reauth=1" }
        return location
    }
}
