import Foundation
import NIOHTTP1

/// Calls the admin API as a signed-in browser (cookie + CSRF token) or with a bearer
/// credential, and reads JSON answers.
struct AdminClient {
    struct Answer {
        let status: HTTPResponseStatus
        let json: [String: Any]
        let body: String
        let headers: HTTPHeaders

        var reason: String? { json["reason"] as? String }
        subscript(key: String) -> Any? { json[key] }
    }

    let harness: SSOHarness
    let browser: TestBrowser
    var csrf: String?
    var bearer: String?

    /// A browser session: signs in and fetches the CSRF token from `/me`.
    static func signIn(_ harness: SSOHarness, as email: String) async throws -> AdminClient {
        let (browser, _) = try await harness.signedIn(email)
        var client = AdminClient(harness: harness, browser: browser, csrf: nil, bearer: nil)
        let me: Answer
        do {
            me = try await client.call(.GET, "/me")
        } catch {
            await browser.shutdown()
            throw error
        }
        guard me.status == .ok, let token = me["csrf_token"] as? String else {
            await browser.shutdown()
            throw TestFailure("no /me: \(me.status) \(me.body)")
        }
        client.csrf = token
        return client
    }

    static func bearer(_ harness: SSOHarness, _ token: String) throws -> AdminClient {
        AdminClient(harness: harness, browser: try harness.browser(), csrf: nil, bearer: token)
    }

    func shutdown() async {
        await browser.shutdown()
    }

    func call(_ method: HTTPMethod, _ path: String, json: String? = nil, headers extra: [(String, String)] = [], csrf sendCSRF: Bool = true) async throws -> Answer {
        var headers = extra
        if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
        if sendCSRF, let csrf, method != .GET { headers.append(("X-CSRF-Token", csrf)) }
        let page = try await browser.request(
            harness.url("/_portcullis/api/v1" + path), method: method, headers: headers, json: json, accept: "application/json"
        )
        let object = (try? JSONSerialization.jsonObject(with: Data(page.body.utf8))) as? [String: Any] ?? [:]
        return Answer(status: page.status, json: object, body: page.body, headers: page.headers)
    }
}
