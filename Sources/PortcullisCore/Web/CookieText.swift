/// `Set-Cookie` values for Portcullis's cookies: always `Secure`, `HttpOnly`, `Path=/` and
/// `SameSite=Lax`, which the `__Host-` prefix requires and the spec asks for (SPEC §3).
package enum CookieText {
    package static func set(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; Secure; HttpOnly; SameSite=Lax"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        return text
    }

    package static func clear(_ name: String) -> String {
        "\(name)=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    }
}
