import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A tiny browser for login flows: keeps cookies per host, follows redirects by hand (so tests
/// can look at each hop), posts forms.
final class TestBrowser: Sendable {
    struct Page: Sendable {
        let url: String
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String

        var location: String? { headers.first(name: "location") }
        var setCookies: [String] { headers["set-cookie"] }
    }

    let client: HTTPClient
    /// authority → name → value
    private let jar = Mutex<[String: [String: String]]>([:])
    /// Sent with every request, redirects and sign-ins included (an `X-Forwarded-For` that
    /// puts the browser somewhere, behind a trusted proxy).
    private let fixedHeaders = Mutex<[(String, String)]>([])
    let userAgent: String

    init(trustRoots: NIOSSLTrustRoots, userAgent: String = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0") {
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, decompression: .disabled)
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.userAgent = userAgent
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    static func authority(of url: String) -> String {
        let rest = url.components(separatedBy: "://").last ?? url
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        let scheme = base.hasPrefix("https://") ? "https://" : "http://"
        return scheme + authority(of: base) + location
    }

    func cookie(_ name: String, for url: String) -> String? {
        jar.withLock { $0[Self.authority(of: url)]?[name] }
    }

    func setCookie(_ name: String, _ value: String?, for url: String) {
        jar.withLock { $0[Self.authority(of: url), default: [:]][name] = value }
    }

    /// Replaces the headers sent with every request.
    func sendWithEveryRequest(_ headers: [(String, String)]) {
        fixedHeaders.withLock { $0 = headers }
    }

    func request(
        _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], form: [String: String]? = nil,
        json: String? = nil, accept: String = "text/html"
    ) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: userAgent)
        let cookies = jar.withLock { $0[Self.authority(of: url)] ?? [:] }
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0)=\($1)" }.sorted().joined(separator: "; "))
        }
        for (name, value) in fixedHeaders.withLock({ $0 }) + headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            let body = form.map { "\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 4 * 1_048_576)
        for header in response.headers["set-cookie"] {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals]).trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: equals)...])
            let expired = header.lowercased().contains("max-age=0")
            setCookie(name, expired || value.isEmpty ? nil : value, for: url)
        }
        return Page(url: url, status: response.status, headers: response.headers, body: String(buffer: body))
    }

    /// Follows redirects from `page` (at most ten hops).
    func follow(_ page: Page, accept: String = "text/html") async throws -> Page {
        var current = page
        for _ in 0..<10 {
            guard [.found, .seeOther, .movedPermanently, .temporaryRedirect].contains(current.status), let location = current.location else {
                return current
            }
            current = try await request(Self.resolve(location, against: current.url), accept: accept)
        }
        return current
    }

    /// Opens `start`, follows to the development IdP's sign-in form and posts it; answers the
    /// IdP's reply (the redirect to the callback), not yet followed.
    func postSignInForm(from start: String, email: String, password: String = "portcullis", accept: String = "text/html") async throws -> Page {
        let form = try await follow(try await request(start, accept: accept))
        guard form.status == .ok, form.body.contains("<form method=\"post\" action=\"/authorize\">") else {
            throw TestFailure("expected the IdP's sign-in form, got \(form.status) at \(form.url): \(form.body.prefix(300))")
        }
        var fields = Self.hiddenFields(form.body)
        fields["email"] = email
        fields["password"] = password
        return try await request(Self.resolve("/authorize", against: form.url), method: .POST, form: fields)
    }

    /// Signs in through the development IdP's form: opens `start`, follows to the IdP, posts
    /// the form, follows back. Answers the final page.
    func signIn(at start: String, email: String, password: String = "portcullis", accept: String = "text/html") async throws -> Page {
        try await follow(try await postSignInForm(from: start, email: email, password: password, accept: accept), accept: accept)
    }

    static func hiddenFields(_ html: String) -> [String: String] {
        var fields: [String: String] = [:]
        let pattern = #"<input type="hidden" name="([^"]+)" value="([^"]*)">"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [:] }
        for match in regex.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            guard let name = Range(match.range(at: 1), in: html), let value = Range(match.range(at: 2), in: html) else { continue }
            fields[String(html[name])] = unescape(String(html[value]))
        }
        return fields
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
