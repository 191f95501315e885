import HTTPTypes
import Hummingbird
import NIOCore

/// The admin console at `/_portcullis/console/` (SPEC §6): one page and its script and styles,
/// served from memory under a strict Content-Security-Policy (scripts and styles only from
/// this origin, no inline code, nothing from elsewhere). Everything it shows and changes goes
/// through the admin API with the session cookie and its CSRF token.
package struct ConsoleEndpoints: Sendable {
    package init() {}

    static let contentSecurityPolicy = """
        default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
        form-action 'self'; frame-ancestors 'none'; base-uri 'none'
        """

    package func register(on router: Router<ControlPlaneRequestContext>) {
        // Hummingbird matches `/_portcullis/console` with and without the trailing slash.
        router.get("_portcullis/console") { _, context in
            // Signed-out visitors go through SSO and come back here.
            guard context.caller != nil else {
                return ControlPlanePages.redirect(to: "/_portcullis/login?rd=%2F_portcullis%2Fconsole%2F")
            }
            return Self.asset(ConsolePage.source, type: "text/html; charset=utf-8")
        }
        router.get("_portcullis/console/app.js") { _, _ in Self.asset(ConsoleScript.source, type: "text/javascript; charset=utf-8") }
        router.get("_portcullis/console/app.css") { _, _ in Self.asset(ConsoleStyles.source, type: "text/css; charset=utf-8") }
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers: HTTPFields = [.contentType: type]
        ControlPlanePages.securityHeaders(&headers)
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
