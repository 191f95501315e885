import Foundation
import HTTPTypes
import Hummingbird
import PortcullisCore

/// Small responses of the control plane: pages for browsers, JSON for APIs. Strict headers on
/// every one.
package enum ControlPlanePages {
    package static func securityHeaders(_ headers: inout HTTPFields) {
        headers[.cacheControl] = "no-store"
        headers[.contentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.frameOptions] = "DENY"
    }

    /// `formTargets`: origins a form on the page may end up at (browsers apply `form-action` to
    /// the redirect that answers a form, such as sign-out's redirect to the IdP).
    package static func page(
        _ status: HTTPResponse.Status, title: String, body: String, headers extra: HTTPFields = [:], formTargets: [String] = []
    ) -> Response {
        let html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(HTMLText.escape(title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25rem}button{font:inherit;padding:.4rem 1rem}</style>
        </head><body><main><h1>\(HTMLText.escape(title))</h1>\(body)</main></body></html>
        """
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        let targets = formTargets.isEmpty ? "" : " " + formTargets.joined(separator: " ")
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'\(targets); frame-ancestors 'none'"
        securityHeaders(&headers)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    package static func problem(_ status: HTTPResponse.Status, title: String, reason: String, message: String) -> Response {
        var response = page(status, title: title, body: """
            <p>\(HTMLText.escape(message))</p><p>Reason code: <code>\(HTMLText.escape(reason))</code></p>
            <p><a href="/_portcullis/login">Sign in again</a></p>
            """)
        // The reason code for machines too, as the data path's refusals carry it.
        if let name = HTTPField.Name("X-Portcullis-Reason") { response.headers[name] = reason }
        return response
    }

    /// `https://host:port` of a URL, for CSP source lists.
    package static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host,
              scheme == "https" || scheme == "http" else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    package static func json(_ status: HTTPResponse.Status, error: String, reason: String, message: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        securityHeaders(&headers)
        let body = "{\"error\":\"\(JSONText.escape(error))\",\"reason\":\"\(JSONText.escape(reason))\",\"message\":\"\(JSONText.escape(message))\"}"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    package static func redirect(to location: String, status: HTTPResponse.Status = .found, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        securityHeaders(&headers)
        return Response(status: status, headers: headers)
    }
}
