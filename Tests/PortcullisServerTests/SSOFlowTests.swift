import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisDevelopment
import PortcullisStore
import PortcullisTestSupport
import PortcullisTokens
import Testing

extension ServerTests {
@Suite("Single sign-on over real HTTP")
struct SSOFlowTests {
    @Test("a browser is sent to login, signs in at the IdP and reaches the upstream with its identity")
    func fullLogin() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }

        let first = try await browser.request(harness.url("/echo?page=1"))
        #expect(first.status == .found)
        #expect(first.location == "/_portcullis/login?rd=/echo%3Fpage%3D1")

        let page = try await browser.signIn(at: harness.url("/echo?page=1"), email: "ada@example.com")
        #expect(page.status == .ok)
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(page.body.utf8))
        #expect(echo.uri == "/echo?page=1")
        #expect(echo.values("x-portcullis-email") == ["ada@example.com"])
        #expect(echo.values("x-portcullis-role") == ["member"])
        #expect(!echo.values("x-portcullis-user").isEmpty)
        // The session cookie never reaches the upstream.
        #expect(!echo.values("cookie").joined().contains("__Host-portcullis"))

        // The user and its groups were recorded from the claims.
        let user = try #require(try await harness.sqlite.user(email: "ada@example.com"))
        #expect(user.name == "Ada Lovelace")
        #expect(user.department == "Engineering")
        #expect(try await harness.sqlite.groups(ofUser: user.id).map(\.name) == ["Content-Team", "IT-Admins"])
    }

    @Test("the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, random, and only its hash is stored")
    func cookieAndStorage() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let posted = try await browser.postSignInForm(from: harness.url("/"), email: "ada@example.com")
        let callback = try await browser.request(try #require(posted.location))
        let setCookie = try #require(callback.setCookies.first { $0.hasPrefix("__Host-portcullis=") })
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            #expect(setCookie.contains(attribute), "\(setCookie)")
        }
        #expect(!setCookie.lowercased().contains("domain="))
        let token = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        // 256 random bits and their 128-bit tag, made with the key the instances share.
        #expect(token.count == 64)
        #expect(Data(base64URLEncoded: token)?.count == 48)
        let tagKey = try await harness.sqlite.sharedSecret(named: CredentialTags.secretName) { [] }
        #expect(CredentialTags(key: tagKey).shape(of: token) == .tagged)
        // The store has the hash, never the id.
        let hash = try #require(SessionToken.hash(of: token))
        let record = try #require(try await harness.sqlite.session(hash))
        #expect(record.device.browser == "Firefox")
        #expect(record.device.os == "Linux")
        #expect(record.createdIP.description == "127.0.0.1")
        #expect(record.mfa)
        #expect(record.idpSessionID?.hasPrefix("dev-sid-") == true)
        let file = try Data(contentsOf: URL(fileURLWithPath: harness.sqlite.path))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: harness.sqlite.path + "-wal"))) ?? Data()
        #expect(file.range(of: Data(token.utf8)) == nil && wal.range(of: Data(token.utf8)) == nil)
    }

    @Test("every login gets a fresh session id, and the old one ends")
    func noFixation() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        let firstToken = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        _ = try await browser.signIn(at: harness.url("/_portcullis/login?rd=/echo"), email: "ada@example.com")
        let secondToken = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        #expect(firstToken != secondToken)
        let firstHash = try #require(SessionToken.hash(of: firstToken))
        let old = try #require(try await harness.sqlite.session(firstHash))
        #expect(old.revokedAt != nil)
        #expect(old.revokedReason == "replaced by a new login")
    }

    @Test("the return path after login is same-origin only", arguments: ["//evil.com", "/\\evil.com", "https://evil.com/", "/%2F%2Fevil.com", "javascript:alert(1)"])
    func openRedirect(_ rd: String) async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let encoded = rd.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let posted = try await browser.postSignInForm(from: harness.url("/_portcullis/login?rd=\(encoded)"), email: "sam@example.com")
        let callback = try await browser.request(try #require(posted.location))
        #expect(callback.status == .found)
        #expect(callback.location == "/")
    }

    @Test("a state mismatch, a missing state cookie and a replayed callback are refused")
    func stateChecks() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }
        let posted = try await browser.postSignInForm(from: harness.url("/"), email: "sam@example.com")
        let callbackURL = try #require(posted.location)

        // Wrong state.
        let forged = callbackURL.replacingOccurrences(of: "state=", with: "state=x")
        let mismatch = try await browser.request(forged)
        #expect(mismatch.status == .badRequest)
        #expect(mismatch.body.contains("state_mismatch"))

        // A mismatch clears the login cookie: the real callback now has no state to match.
        let stale = try await browser.request(callbackURL)
        #expect(stale.status == .badRequest)
        #expect(stale.body.contains("login_state_missing"))

        // A fresh sign-in, then its callback replayed with the same state cookie.
        let again = try await browser.follow(try await browser.request(harness.url("/")))
        var againFields = TestBrowser.hiddenFields(again.body)
        againFields["email"] = "sam@example.com"
        againFields["password"] = "portcullis"
        let secondPost = try await browser.request(TestBrowser.resolve("/authorize", against: again.url), method: .POST, form: againFields)
        let secondCallback = try #require(secondPost.location)
        let stateCookie = try #require(browser.cookie("__Host-portcullis-login", for: harness.origin))
        let ok = try await browser.request(secondCallback)
        #expect(ok.status == .found)
        browser.setCookie("__Host-portcullis-login", stateCookie, for: harness.origin)
        let replay = try await browser.request(secondCallback)
        #expect(replay.status == .badRequest)
        #expect(replay.body.contains("login_replayed"))
    }

    @Test("a replayed authorization code is refused, and a wrong PKCE verifier too")
    func replayedCode() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (code, verifier) = try await harness.authorizationCode(for: "sam@example.com")
        let first = try await harness.exchange(code: code, verifier: verifier)
        #expect(first.status == .ok)
        #expect(first.body.contains("id_token"))
        let replay = try await harness.exchange(code: code, verifier: verifier)
        #expect(replay.status == .badRequest)
        #expect(replay.body.contains("invalid_grant"))
        let (other, _) = try await harness.authorizationCode(for: "sam@example.com")
        let wrongVerifier = try await harness.exchange(code: other, verifier: SessionToken.random(bytes: 48))
        #expect(wrongVerifier.status == .badRequest)
    }

    @Test("bearer JWTs work on allow_bearer routes; API clients get JSON 401; browsers go to login")
    func bearer() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        // Bearer JWTs never create accounts (issue 12): Sam signs in through SSO once first.
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let token = try await harness.accessToken(for: "sam@example.com")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let allowed = try await client.request(harness.url("/api/items"), headers: [("Authorization", "Bearer \(token)")], accept: "application/json")
        #expect(allowed.status == .ok)
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(allowed.body.utf8))
        #expect(echo.values("x-portcullis-email") == ["sam@example.com"])
        #expect(echo.values("authorization").isEmpty)

        let notAllowed = try await client.request(harness.url("/other"), headers: [("Authorization", "Bearer \(token)")], accept: "application/json")
        #expect(notAllowed.status == .unauthorized)
        #expect(notAllowed.body.contains("bearer_not_allowed"))

        let garbage = try await client.request(harness.url("/api/items"), headers: [("Authorization", "Bearer not.a.jwt")], accept: "application/json")
        #expect(garbage.status == .unauthorized)
        #expect(garbage.body.contains("\"reason\":\"invalid_token\""))
        #expect(garbage.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)

        let anonymousAPI = try await client.request(harness.url("/api/items"), accept: "application/json")
        #expect(anonymousAPI.status == .unauthorized)
        #expect(anonymousAPI.headers.first(name: "content-type") == "application/json")
        let anonymousBrowser = try await client.request(harness.url("/api/items"), accept: "text/html")
        #expect(anonymousBrowser.status == .found)
        #expect(anonymousBrowser.location?.hasPrefix("/_portcullis/login?rd=") == true)
    }

    @Test("logout: POST from this site only; the session ends; the browser goes to the IdP's end-session page")
    func logout() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        let token = try #require(browser.cookie("__Host-portcullis", for: harness.origin))

        let crossSite = try await browser.request(harness.url("/_portcullis/logout"), method: .POST, headers: [("Origin", "https://evil.example")], form: [:])
        #expect(crossSite.status == .forbidden)
        #expect(crossSite.body.contains("csrf"))
        let noOrigin = try await browser.request(harness.url("/_portcullis/logout"), method: .POST, form: [:])
        #expect(noOrigin.status == .forbidden)
        #expect(try await browser.request(harness.url("/echo"), accept: "application/json").status == .ok)

        let out = try await browser.request(harness.url("/_portcullis/logout"), method: .POST, headers: [("Origin", harness.origin)], form: [:])
        #expect(out.status == .seeOther)
        #expect(out.location?.hasPrefix("https://localhost:\(harness.idpPort)/end_session?") == true)
        #expect(out.setCookies.contains { $0.hasPrefix("__Host-portcullis=;") && $0.contains("Max-Age=0") })
        #expect(browser.cookie("__Host-portcullis", for: harness.origin) == nil)

        // The old cookie no longer works.
        browser.setCookie("__Host-portcullis", token, for: harness.origin)
        let after = try await browser.request(harness.url("/echo"), accept: "application/json")
        #expect(after.status == .unauthorized)
        #expect(after.body.contains("session_revoked"))
    }

    @Test("back-channel logout by sid ends the session; the same logout token twice is refused")
    func backchannel() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (browser, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await browser.shutdown() } }
        let token = try #require(browser.cookie("__Host-portcullis", for: harness.origin))
        let hash = try #require(SessionToken.hash(of: token))
        let record = try #require(try await harness.sqlite.session(hash))
        let sid = try #require(record.idpSessionID)

        let logoutToken = try await harness.idp.logoutToken(subject: "sub-sam", sessionID: sid, jti: "jti-1")
        let client = try harness.browser()
        defer { Task { await client.shutdown() } }
        let first = try await client.request(harness.url("/_portcullis/backchannel-logout"), method: .POST, form: ["logout_token": logoutToken])
        #expect(first.status == .ok)
        #expect(first.headers.first(name: "cache-control") == "no-store")
        let after = try await browser.request(harness.url("/echo"), accept: "application/json")
        #expect(after.status == .unauthorized)
        #expect(after.body.contains("session_revoked"))

        let replay = try await client.request(harness.url("/_portcullis/backchannel-logout"), method: .POST, form: ["logout_token": logoutToken])
        #expect(replay.status == .badRequest)
        #expect(replay.body.contains("replayed"))

        // A token with a nonce, or without the event, is refused.
        let forged = try await client.request(harness.url("/_portcullis/backchannel-logout"), method: .POST, form: ["logout_token": "eyJhbGciOiJub25lIn0.e30."])
        #expect(forged.status == .badRequest)
    }

    @Test("mfa: required routes send a user without MFA back through the IdP")
    func mfa() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (sam, _) = try await harness.signedIn("sam@example.com")
        defer { Task { await sam.shutdown() } }
        let refused = try await sam.request(harness.url("/secure/page"))
        #expect(refused.status == .found)
        #expect(refused.location?.contains("mfa=1") == true)
        let api = try await sam.request(harness.url("/secure/page"), accept: "application/json")
        #expect(api.body.contains("mfa_required"))
        // The step-up login asks the IdP for a fresh sign-in.
        let login = try await sam.request(harness.url(try #require(refused.location)))
        #expect(login.location?.contains("prompt=login") == true)

        let (ada, _) = try await harness.signedIn("ada@example.com")
        defer { Task { await ada.shutdown() } }
        #expect(try await ada.request(harness.url("/secure/page"), accept: "application/json").status == .ok)
    }

    @Test("activity is written at most once a minute, not on every request")
    func activityThrottled() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        let before = harness.store.count("recordSessionActivity")
        for _ in 0..<20 {
            #expect(try await browser.request(harness.url("/echo"), accept: "application/json").status == .ok)
        }
        #expect(harness.store.count("recordSessionActivity") - before <= 1)
    }

    @Test("when the store cannot re-check a session past max_staleness, the request is refused, and service resumes")
    func failClosed() async throws {
        let harness = try await SSOHarness.start(sessions: "sessions: { max_staleness: 0s }")
        defer { Task { await harness.stop() } }
        let (browser, _) = try await harness.signedIn()
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.request(harness.url("/echo"), accept: "application/json").status == .ok)
        harness.store.setFailing(true)
        let refused = try await browser.request(harness.url("/echo"), accept: "application/json")
        // 503: signing in again would not help an API client; trying again shortly may.
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.body.contains("session_unverifiable"))
        let page = try await browser.request(harness.url("/echo"))
        #expect(page.status == .found, "a browser is still sent to sign in")
        #expect(page.headers.first(name: "x-portcullis-reason") == "session_unverifiable")
        harness.store.setFailing(false)
        #expect(try await browser.request(harness.url("/echo"), accept: "application/json").status == .ok)
    }
}
}
