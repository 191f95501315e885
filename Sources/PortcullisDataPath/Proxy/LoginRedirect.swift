import Foundation

/// Where a browser that must sign in is sent: `/_portcullis/login?rd=<the page it asked for>`.
/// The login endpoint checks `rd` again before it redirects anywhere (no open redirect).
enum LoginRedirect {
    static func location(returningTo uri: String, reason: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        let encoded = uri.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/"
        var location = "/_portcullis/login?rd=\(encoded)"
        if reason == "mfa_required" { location += "&mfa=1" }
        return location
    }
}
