import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// A refusal in the client's language (SPEC §5): a browser asking for HTML is sent to login
/// or shown a small page with the reason code; an API client gets
/// `{"error": "...", "reason": "...", "message": "..."}`.
enum RefusalResponse {
    enum Kind: String {
        case unauthenticated
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case badRequest = "bad_request"
        case requestTimeout = "request_timeout"
        case headersTooLarge = "headers_too_large"
        case badGateway = "bad_gateway"
        case gatewayTimeout = "gateway_timeout"
        case unavailable = "service_unavailable"

        init(_ outcome: AccessDecision.Outcome) {
            switch outcome {
            case .allow, .forbidden: self = .forbidden
            case .unauthenticated: self = .unauthenticated
            case .notFound: self = .notFound
            case .methodNotAllowed: self = .methodNotAllowed
            case .badRequest: self = .badRequest
            }
        }

        /// The kind of the gateway's own error responses, by status.
        init(status: HTTPResponseStatus) {
            switch status {
            case .unauthorized: self = .unauthenticated
            case .forbidden: self = .forbidden
            case .notFound: self = .notFound
            case .methodNotAllowed: self = .methodNotAllowed
            case .requestTimeout: self = .requestTimeout
            case .requestHeaderFieldsTooLarge: self = .headersTooLarge
            case .badGateway: self = .badGateway
            case .gatewayTimeout: self = .gatewayTimeout
            case .serviceUnavailable: self = .unavailable
            default: self = .badRequest
            }
        }

        var status: HTTPResponseStatus {
            switch self {
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .badRequest: .badRequest
            case .requestTimeout: .requestTimeout
            case .headersTooLarge: .requestHeaderFieldsTooLarge
            case .badGateway: .badGateway
            case .gatewayTimeout: .gatewayTimeout
            case .unavailable: .serviceUnavailable
            }
        }

        var title: String {
            switch self {
            case .unauthenticated: "Sign-in required"
            case .forbidden: "Access refused"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .badRequest: "Bad request"
            case .requestTimeout: "Request timed out"
            case .headersTooLarge: "Request headers too large"
            case .badGateway: "Upstream unavailable"
            case .gatewayTimeout: "Upstream timed out"
            case .unavailable: "Temporarily unavailable"
            }
        }
    }

    /// Wants HTML: a browser navigation (`Accept` names text/html before any JSON).
    static func prefersHTML(_ headers: HTTPHeaders) -> Bool {
        guard let accept = headers.first(name: "accept")?.lowercased() else { return false }
        guard let html = accept.range(of: "text/html") else { return false }
        if let json = accept.range(of: "application/json"), json.lowerBound < html.lowerBound { return false }
        return true
    }

    /// - Parameters:
    ///   - loginLocation: for browsers that must sign in: where to send them (already holding
    ///     the return path); `nil` shows a page instead.
    static func make(
        kind: Kind,
        reason: String,
        message: String,
        html: Bool,
        loginLocation: String?,
        hsts: String?,
        allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "X-Portcullis-Reason", value: reason)
        if let hsts { headers.add(name: "Strict-Transport-Security", value: hsts) }
        var body = allocator.buffer(capacity: 512)
        var status = kind.status
        if html {
            headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
            headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
            headers.add(name: "Referrer-Policy", value: "no-referrer")
            if kind == .unauthenticated, let loginLocation {
                status = .found
                headers.add(name: "Location", value: loginLocation)
                body.writeString(page(title: kind.title, message: message, reason: reason, link: loginLocation))
            } else {
                body.writeString(page(title: kind.title, message: message, reason: reason, link: nil))
            }
        } else {
            headers.add(name: "Content-Type", value: "application/json")
            if kind == .unauthenticated {
                // RFC 6750 §3.1: no error code when the request carried no credentials at all;
                // `invalid_token` when the credentials it carried were refused.
                let challenge = reason == ReasonCode.loginRequired.rawValue
                    ? "Bearer realm=\"portcullis\""
                    : "Bearer realm=\"portcullis\", error=\"invalid_token\""
                headers.add(name: "WWW-Authenticate", value: challenge)
            }
            body.writeString("{\"error\":\"\(kind.rawValue)\",\"reason\":\"\(JSONText.escape(reason))\",\"message\":\"\(JSONText.escape(message))\"}")
        }
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), body)
    }

    static func page(title: String, message: String, reason: String, link: String?) -> String {
        var html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(HTMLText.escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25rem}</style>
        </head><body><main><h1>\(HTMLText.escape(title))</h1><p>\(HTMLText.escape(message))</p>
        <p>Reason code: <code>\(HTMLText.escape(reason))</code></p>
        """
        if let link {
            html += "<p><a href=\"\(HTMLText.escape(link))\">Sign in</a></p>"
        }
        html += "</main></body></html>\n"
        return html
    }
}
