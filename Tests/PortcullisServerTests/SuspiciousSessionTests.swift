import Crypto
import Foundation
import NIOHTTP1
import PortcullisControlPlane
import PortcullisCore
import PortcullisDataPathTesting
import PortcullisDevelopment
import PortcullisGeoIP
import PortcullisServer
import PortcullisTestSupport
import Prometheus
import Synchronization
import Testing

/// Suspicious sessions over real sockets (issue 16): the gateway behind a trusted proxy
/// (loopback), places from the test GeoIP database (`Tests/Fixtures/geoip`: 203.0.113.0/24
/// Sydney, 198.51.100.0/24 Berlin, 2001:db8::/32 Tokyo, each with coordinates and an ASN), the
/// development IdP, and a loopback webhook receiver.
@Suite("Suspicious sessions over real HTTPS", .serialized)
struct SuspiciousSessionTests {
    static let sydney = "203.0.113.7"
    static let berlin = "198.51.100.7"
    static let tokyo = "2001:db8::1"
    static let secret = "risk-webhook-secret-\(UUID().uuidString)"

    /// Sign-ins happen at `offset` seconds from now.
    final class Clock: Sendable {
        let offset = Mutex<TimeInterval>(0)
        func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func set(_ seconds: TimeInterval) { offset.withLock { $0 = seconds } }
    }

    static func geoIP() throws -> MaxMindGeoIPResolver {
        MaxMindGeoIPResolver(
            city: try MaxMindDatabase(path: FixturePaths.testCityDatabase), asn: try MaxMindDatabase(path: FixturePaths.testASNDatabase)
        )
    }

    static func start(
        actions: String = "", webhook: RecordingUpstream? = nil, clock: Clock, postgresURL: String? = nil, sessions: String = "",
        behaviour: DevIdentityProvider.Behaviour = .init(), metrics: PrometheusCollectorRegistry? = nil, extraRisk: String = ""
    ) async throws -> SSOHarness {
        var risk = sessions + "  risk:\n" + (extraRisk.isEmpty ? "" : extraRisk + "\n")
        if !actions.isEmpty { risk += "    action: { \(actions) }\n" }
        if let webhook {
            let secretPath = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-risk-\(UUID().uuidString).secret").path
            try secret.write(toFile: secretPath, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretPath)
            risk += "    webhook: { url: \"http://127.0.0.1:\(webhook.port)/hook\", secret_file: \"\(secretPath)\" }\n"
        }
        return try await SSOHarness.start(
            sessions: "sessions:\n" + risk, postgresURL: postgresURL, metrics: metrics, serverExtra: "  trusted_proxies: [127.0.0.0/8]", behaviour: behaviour,
            geoIP: try geoIP(), clock: { clock.now() }
        )
    }

    /// A browser that comes from `address` (through the trusted proxy).
    static func browser(_ harness: SSOHarness, from address: String) throws -> TestBrowser {
        let browser = try harness.browser()
        browser.sendWithEveryRequest([("X-Forwarded-For", address)])
        return browser
    }

    static func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("timed out waiting for \(what)")
    }

    static func flags(_ harness: SSOHarness, _ email: String) async throws -> [SessionFlag] {
        guard let user = try await harness.store.user(email: email) else { return [] }
        return try await harness.store.sessionFlags(userID: user.id)
    }

    @Test("Sydney, then Berlin ten minutes later: impossible_travel and new_country, listed, signed to the webhook, dismissed")
    func sydneyThenBerlin() async throws {
        let receiver = try await RecordingUpstream.start()
        let clock = Clock()
        let harness = try await Self.start(webhook: receiver, clock: clock, metrics: PrometheusCollectorRegistry())
        defer { Task { await harness.stop(); await receiver.close() } }
        let root = try await harness.store.ensureUser(email: "root@example.com", at: Date())
        #expect(try await harness.store.bootstrapSuperAdmin(
            userID: root.id, force: false, audit: AuditContext(actor: "cli", actorIsSuperAdmin: false, sourceIP: nil, at: Date())
        ))

        clock.set(-600)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        #expect(try await Self.flags(harness, "ada@example.com").isEmpty, "the first sign-in ever flags nothing")

        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        #expect(try await second.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok, "flag only: the session goes on")
        let raised = try await Self.flags(harness, "ada@example.com")
        #expect(Set(raised.map(\.kind)) == [.impossibleTravel, .newCountry])
        let travel = try #require(raised.first { $0.kind == .impossibleTravel })
        #expect(travel.reason.hasPrefix("Sydney, AU → Berlin, DE in 10 min ("), "\(travel.reason)")
        #expect(travel.reason.hasSuffix(" km/h)"))

        // The admin API: flagged sessions across users, with the reason in words.
        let admin = try await AdminClient.signIn(harness, as: "root@example.com")
        defer { Task { await admin.shutdown() } }
        let flagged = try await admin.call(.GET, "/sessions?flagged=true")
        #expect(flagged.status == .ok, "\(flagged.body)")
        let sessions = flagged["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == 1, "\(flagged.body)")
        #expect(sessions.first?["email"] as? String == "ada@example.com")
        let session = sessions.first?["session"] as? [String: Any] ?? [:]
        let listedFlags = session["flags"] as? [[String: Any]] ?? []
        #expect(Set(listedFlags.compactMap { $0["kind"] as? String }) == ["impossible_travel", "new_country"])
        #expect(listedFlags.contains { ($0["reason"] as? String)?.hasPrefix("Sydney, AU → Berlin, DE in 10 min") == true })
        // The teammate's sessions list shows them too; the Sydney session carries none.
        let teammate = try await admin.call(.GET, "/teammates/ada@example.com/sessions")
        let teammateSessions = teammate["sessions"] as? [[String: Any]] ?? []
        #expect(teammateSessions.count == 2)
        #expect(teammateSessions.map { ($0["flags"] as? [Any] ?? []).count }.sorted() == [0, 2])
        #expect(try await admin.call(.GET, "/sessions?flagged=maybe").reason == "invalid_query")
        // Without the filter: every live session across users, flagged or not.
        let everyone = (try await admin.call(.GET, "/sessions")["sessions"] as? [[String: Any]]) ?? []
        #expect(everyone.compactMap { $0["email"] as? String }.sorted() == ["ada@example.com", "ada@example.com", "root@example.com"])

        // The command line lists them too.
        if FileManager.default.isExecutableFile(atPath: ServerTests.DurabilityTests.binary) {
            let listed = try await ServerTests.CommandLineTests.portcullis(["sessions", "list", "ada@example.com", "--config", harness.configurationPath])
            #expect(listed.status == 0, "\(listed.error)")
            #expect(listed.output.contains("flagged impossible_travel: Sydney, AU → Berlin, DE in 10 min"), "\(listed.output)")
            let json = try await ServerTests.CommandLineTests.portcullis(["sessions", "list", "ada@example.com", "--json", "--config", harness.configurationPath])
            #expect(json.output.contains(#""kind":"new_country""#), "\(json.output)")
        }

        // Each new flag is audited.
        let audited = try await harness.store.auditEntries(AuditQuery(action: .sessionFlagged))
        #expect(audited.count == 2)
        #expect(audited.allSatisfy { $0.target == "ada@example.com" && $0.actor == SessionRiskRecord.actor })

        // The webhook received each flag, signed.
        try await Self.waitFor("two webhook deliveries") {
            receiver.parsed.flatMap(\.requests).count >= 2
        }
        let deliveries = receiver.parsed.flatMap(\.requests)
        #expect(deliveries.count == 2)
        let key = SymmetricKey(data: Data(Self.secret.utf8))
        var kinds: Set<String> = []
        for delivery in deliveries {
            #expect(delivery.method == "POST")
            #expect(delivery.target == "/hook")
            let signature = delivery.headers.first { $0.name.lowercased() == "x-portcullis-signature" }?.value ?? ""
            #expect(signature.hasPrefix("sha256="))
            let mac = Data(hex: String(signature.dropFirst("sha256=".count)))
            #expect(HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(delivery.body), using: key), "the signature verifies")
            let wrongKey = SymmetricKey(data: Data("another secret, 32 characters long".utf8))
            #expect(!HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(delivery.body), using: wrongKey))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
            #expect(body["type"] as? String == "session.flagged")
            #expect((body["user"] as? [String: Any])?["email"] as? String == "ada@example.com")
            #expect(body["reason"] as? String != nil)
            #expect(body["evidence"] is [String: Any])
            kinds.insert(body["kind"] as? String ?? "")
        }
        #expect(kinds == ["impossible_travel", "new_country"])
        // Counted for operators.
        try await Self.waitFor("the deliveries to be counted") {
            try await ServerTests.MetricsTests.Scrape.of(harness).value("portcullis_session_risk_alerts_total", ["outcome": "delivered"]) == 2
        }
        let scrape = try await ServerTests.MetricsTests.Scrape.of(harness)
        #expect(scrape.value("portcullis_session_flags_total", ["kind": "impossible_travel", "action": "flag"]) == 1, "\(scrape.text)")
        #expect(scrape.value("portcullis_session_flags_total", ["kind": "new_country", "action": "flag"]) == 1)
        #expect(scrape.value("portcullis_session_flags_total") == 2)

        // Dismissing: audited; the session leaves the flagged list once every flag is dismissed.
        for flag in raised {
            let dismissed = try await admin.call(.POST, "/sessions/flags/\(flag.id)/dismiss")
            #expect(dismissed.status == .ok, "\(dismissed.body)")
            #expect(dismissed["dismissed_by"] as? String == "root@example.com")
        }
        #expect(try await admin.call(.POST, "/sessions/flags/00000000000000000000000000000000/dismiss").status == .notFound)
        #expect(try await admin.call(.POST, "/sessions/flags/not-hex!/dismiss").status == .badRequest)
        #expect(try await harness.store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).count == 2)
        #expect((try await admin.call(.GET, "/sessions?flagged=true")["sessions"] as? [Any])?.isEmpty == true)
        #expect(try await harness.store.verifyAuditLog().isIntact)
    }

    @Test("sessions.risk.enabled: false keeps no history and flags nothing")
    func disabled() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "new_country: deny", clock: clock, extraRisk: "    enabled: false")
        defer { Task { await harness.stop() } }
        clock.set(-600)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        #expect(try await second.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        second.sendWithEveryRequest([("X-Forwarded-For", Self.tokyo)])
        #expect(try await second.request(harness.url("/echo")).status == .ok)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await second.request(harness.url("/echo")).status == .ok)
        #expect(try await Self.flags(harness, "ada@example.com").isEmpty)
        let user = try #require(try await harness.store.user(email: "ada@example.com"))
        #expect(try await harness.store.riskHistory(userID: user.id, since: .distantPast, limit: 100).isEmpty)
    }

    @Test("the history is pruned past its window")
    func pruned() async throws {
        let clock = Clock()
        let harness = try await Self.start(clock: clock, extraRisk: "    history: 1h")
        defer { Task { await harness.stop() } }
        let browser = try Self.browser(harness, from: Self.sydney)
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        let user = try #require(try await harness.store.user(email: "ada@example.com"))
        #expect(try await harness.store.riskHistory(userID: user.id, since: .distantPast, limit: 100).count == 1)
        clock.set(1_800)
        #expect(await harness.assembly.sessionRisk.prune() == 0, "within the hour")
        clock.set(3_700)
        #expect(await harness.assembly.sessionRisk.prune() == 1)
        #expect(try await harness.store.riskHistory(userID: user.id, since: .distantPast, limit: 100).isEmpty)
    }

    @Test("a member can neither list flagged sessions nor dismiss flags")
    func permissions() async throws {
        let clock = Clock()
        let harness = try await Self.start(clock: clock)
        defer { Task { await harness.stop() } }
        let sam = try await AdminClient.signIn(harness, as: "sam@example.com")
        defer { Task { await sam.shutdown() } }
        let listed = try await sam.call(.GET, "/sessions?flagged=true")
        #expect(listed.status == .forbidden)
        #expect(listed.reason == "permission_required")
        let dismissed = try await sam.call(.POST, "/sessions/flags/00000000000000000000000000000000/dismiss")
        #expect(dismissed.status == .forbidden)
    }

    /// Issue 21, item 13: dismissing a flag can end a super admin's step-up, so only a super
    /// admin may dismiss flags on a super admin's session. Before, any admin could.
    @Test("an admin cannot dismiss a flag on a super admin's session (403, nothing audited); a super admin can")
    func superAdminFlagsNeedASuperAdmin() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "impossible_travel: step_up", clock: clock)
        defer { Task { await harness.stop() } }
        try await ServerTests.AdminAPITests.bootstrap(harness)
        clock.set(-1_200)
        let root = try await AdminClient.signIn(harness, as: "root@example.com")
        let grace = try await AdminClient.signIn(harness, as: "grace@example.com")
        defer { Task { await root.shutdown(); await grace.shutdown() } }
        #expect(try await root.call(.PUT, "/teammates/grace@example.com/roles", json: #"{"primary":"admin"}"#).status == .ok)
        // Root signs in from Sydney, then from Berlin ten minutes later: that session waits for
        // a step-up (it may be someone else holding root's password).
        clock.set(-600)
        let sydney = try Self.browser(harness, from: Self.sydney)
        defer { Task { await sydney.shutdown() } }
        #expect(try await sydney.signIn(at: harness.url("/echo"), email: "root@example.com").status == .ok)
        clock.set(0)
        let berlin = try Self.browser(harness, from: Self.berlin)
        defer { Task { await berlin.shutdown() } }
        let callback = try await berlin.postSignInForm(from: harness.url("/echo"), email: "root@example.com")
        _ = try await berlin.request(TestBrowser.resolve(try #require(callback.location), against: callback.url))
        #expect(try await berlin.request(harness.url("/echo")).status == .found, "the Berlin session waits for a step-up")
        let flag = try #require(try await Self.flags(harness, "root@example.com").first { $0.kind == .impossibleTravel })
        #expect(flag.awaitsStepUp)

        // Grace, an admin, sees the flag and is told she may not dismiss it.
        let listed = try await grace.call(.GET, "/sessions?flagged=true")
        let session = try #require((listed["sessions"] as? [[String: Any]])?.first { $0["email"] as? String == "root@example.com" })
        #expect((session["session"] as? [String: Any])?["dismiss_refused"] as? String == "super_admin_protected", "\(listed.body)")
        let refused = try await grace.call(.POST, "/sessions/flags/\(flag.id)/dismiss")
        #expect(refused.status == .forbidden, "\(refused.body)")
        #expect(refused.reason == "super_admin_protected")
        #expect((refused["message"] as? String)?.contains("root@example.com") == true)
        #expect(try await Self.flags(harness, "root@example.com").first { $0.id == flag.id }?.dismissedAt == nil)
        #expect(try await harness.store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).isEmpty, "a refusal is not audited as done")
        #expect(try await berlin.request(harness.url("/echo")).status == .found, "the session still waits for its step-up")
        let teammate = try await grace.call(.GET, "/teammates/root@example.com/sessions")
        let shown = (teammate["sessions"] as? [[String: Any]] ?? []).first { ($0["flags"] as? [Any])?.isEmpty == false }
        #expect(shown?["dismiss_refused"] as? String == "super_admin_protected", "\(teammate.body)")

        // Root, a super admin, may.
        let rootList = try await root.call(.GET, "/sessions?flagged=true")
        let rootView = (rootList["sessions"] as? [[String: Any]])?.first { $0["email"] as? String == "root@example.com" }
        #expect((rootView?["session"] as? [String: Any])?["dismiss_refused"] == nil, "\(rootList.body)")
        let dismissed = try await root.call(.POST, "/sessions/flags/\(flag.id)/dismiss")
        #expect(dismissed.status == .ok, "\(dismissed.body)")
        #expect(dismissed["dismissed_by"] as? String == "root@example.com")
        #expect(try await harness.store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).count == 1)
        #expect(try await berlin.request(harness.url("/echo")).status == .ok)
    }

    @Test("step_up: the browser is sent to the IdP with prompt=login and max_age=0, and goes on only after a fresh sign-in")
    func stepUp() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "impossible_travel: step_up", clock: clock)
        defer { Task { await harness.stop() } }
        clock.set(-600)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        // The callback sends the browser back to the login for a fresh sign-in…
        let callback = try await second.postSignInForm(from: harness.url("/echo"), email: "ada@example.com")
        let afterCallback = try await second.request(TestBrowser.resolve(try #require(callback.location), against: callback.url))
        #expect(afterCallback.status == .found)
        let login = try #require(afterCallback.location)
        #expect(login.hasPrefix("/_portcullis/login?") && login.contains("reauth=1"), "\(login)")
        // …whose session is refused meanwhile, through the data path too.
        let refused = try await second.request(harness.url("/echo"))
        #expect(refused.status == .found)
        #expect(refused.location?.contains("reauth=1") == true, "\(refused.location ?? "")")
        let api = try await second.request(harness.url("/api/x"), accept: "application/json")
        #expect(api.status == .unauthorized)
        #expect(api.body.contains("step_up_required"))
        // The login asks the IdP for a fresh sign-in.
        let toIdP = try await second.request(harness.url(login))
        let authorize = try #require(toIdP.location)
        #expect(authorize.contains("prompt=login"), "\(authorize)")
        #expect(authorize.contains("max_age=0"), "\(authorize)")
        // A fresh sign-in: the session goes on, its flag carried over and marked stepped up.
        let done = try await second.signIn(at: harness.url(login), email: "ada@example.com")
        #expect(done.status == .ok, "\(done.status) \(done.body.prefix(300))")
        #expect(try await second.request(harness.url("/echo")).status == .ok)
        let flags = try await Self.flags(harness, "ada@example.com")
        let travel = try #require(flags.first { $0.kind == .impossibleTravel })
        #expect(travel.steppedUpAt != nil)
        #expect(!travel.awaitsStepUp)
        #expect(try await harness.store.auditEntries(AuditQuery(action: .sessionSteppedUp)).count == 1)
        // The first browser's session was never flagged: it goes on.
        #expect(try await first.request(harness.url("/echo")).status == .ok)
    }

    @Test("a step-up cannot be sidestepped: a plain sign-in from the flagged browser is sent back for a fresh one, and starting over is flagged again")
    func stepUpNotSidestepped() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "new_country: step_up", clock: clock)
        defer { Task { await harness.stop() } }
        clock.set(-3_600)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        let callback = try await second.postSignInForm(from: harness.url("/echo"), email: "ada@example.com")
        let flagged = try await second.request(TestBrowser.resolve(try #require(callback.location), against: callback.url))
        #expect(flagged.location?.contains("reauth=1") == true, "\(flagged.location ?? "")")
        // The plain login (no prompt=login) with the flagged session's cookie: sent back for a fresh sign-in.
        let plain = try await second.postSignInForm(from: harness.url("/_portcullis/login?rd=%2Fecho"), email: "ada@example.com")
        let afterPlain = try await second.request(TestBrowser.resolve(try #require(plain.location), against: plain.url))
        #expect(afterPlain.status == .found)
        #expect(afterPlain.location?.contains("reauth=1") == true, "\(afterPlain.location ?? "")")
        #expect(try await second.request(harness.url("/echo")).status == .found, "still refused")
        // Starting over in a new browser: Berlin did not become known, so it is flagged again.
        let third = try Self.browser(harness, from: Self.berlin)
        defer { Task { await third.shutdown() } }
        let again = try await third.postSignInForm(from: harness.url("/echo"), email: "ada@example.com")
        let againAfter = try await third.request(TestBrowser.resolve(try #require(again.location), against: again.url))
        #expect(againAfter.location?.contains("reauth=1") == true, "\(againAfter.location ?? "")")
        #expect(try await Self.flags(harness, "ada@example.com").filter { $0.kind == .newCountry }.count == 2)
        #expect(try await third.request(harness.url("/echo")).status == .found)
    }

    @Test("a step-up is refused when the IdP reports no fresh sign-in (an old auth_time): the session stays refused")
    func staleAuthTime() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "new_country: step_up", clock: clock, behaviour: .init(reportsStaleAuthTime: true))
        defer { Task { await harness.stop() } }
        clock.set(-7_200)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok, "no step-up: auth_time is not read")
        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        let callback = try await second.postSignInForm(from: harness.url("/echo"), email: "ada@example.com")
        let flagged = try await second.request(TestBrowser.resolve(try #require(callback.location), against: callback.url))
        let login = try #require(flagged.location)
        #expect(login.contains("reauth=1"))
        let refused = try await second.signIn(at: harness.url(login), email: "ada@example.com")
        #expect(refused.status == .forbidden)
        #expect(refused.body.contains("reauthentication_required"))
        #expect(try await second.request(harness.url("/echo")).status == .found, "the flagged session is still refused")
        #expect(try await Self.flags(harness, "ada@example.com").allSatisfy { $0.steppedUpAt == nil })
    }

    @Test("deny at sign-in: the sign-in is refused and its session revoked with suspicious_session")
    func denyAtSignIn() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "new_country: deny", clock: clock)
        defer { Task { await harness.stop() } }
        clock.set(-3_600)
        let first = try Self.browser(harness, from: Self.sydney)
        defer { Task { await first.shutdown() } }
        #expect(try await first.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        clock.set(0)
        let second = try Self.browser(harness, from: Self.berlin)
        defer { Task { await second.shutdown() } }
        let page = try await second.signIn(at: harness.url("/echo"), email: "ada@example.com")
        #expect(page.status == .forbidden)
        #expect(page.body.contains("suspicious_session"))
        #expect(second.cookie("__Host-portcullis", for: harness.origin) == nil)
        let flag = try #require(try await Self.flags(harness, "ada@example.com").first { $0.kind == .newCountry })
        let session = try #require(try await harness.store.session(flag.sessionIDHash))
        #expect(session.revokedReason == "suspicious_session")
        #expect(session.revokedBy == SessionRiskRecord.actor)
        // Trying again does not make Berlin known.
        let third = try Self.browser(harness, from: Self.berlin)
        defer { Task { await third.shutdown() } }
        #expect(try await third.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .forbidden)
        // Sydney still signs in.
        let fourth = try Self.browser(harness, from: Self.sydney)
        defer { Task { await fourth.shutdown() } }
        #expect(try await fourth.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
    }

    @Test("a live session that jumps to Tokyo over IPv6 is flagged network_jump; deny revokes it at once")
    func networkJumpDenied() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "network_jump: deny", clock: clock)
        defer { Task { await harness.stop() } }
        let browser = try Self.browser(harness, from: Self.berlin)
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        #expect(try await browser.request(harness.url("/echo")).status == .ok, "the same address: nothing happens")
        // The cookie, replayed from Tokyo.
        browser.sendWithEveryRequest([("X-Forwarded-For", Self.tokyo)])
        _ = try await browser.request(harness.url("/echo"))
        try await Self.waitFor("the network jump to be judged") {
            try await Self.flags(harness, "ada@example.com").contains { $0.kind == .networkJump }
        }
        let jump = try #require(try await Self.flags(harness, "ada@example.com").first { $0.kind == .networkJump })
        #expect(jump.reason == "Berlin, DE (AS64497) → Tokyo, JP (AS64499): the session moved to another country and network", "\(jump.reason)")
        guard case .networkJump(let evidence) = jump.evidence else { Issue.record("wrong evidence"); return }
        #expect(evidence.toAddress == Self.tokyo)
        #expect(try await harness.store.session(jump.sessionIDHash)?.revokedReason == "suspicious_session")
        // Every request with it from now on is refused, from anywhere.
        browser.sendWithEveryRequest([("X-Forwarded-For", Self.berlin)])
        let refused = try await browser.request(harness.url("/echo"))
        #expect(refused.status == .found)
        #expect(refused.location?.hasPrefix("/_portcullis/login") == true)
    }

    @Test("a new address in the same place is no jump and is not kept; a move to another place is kept")
    func samePlace() async throws {
        let clock = Clock()
        let harness = try await Self.start(clock: clock)
        defer { Task { await harness.stop() } }
        let browser = try Self.browser(harness, from: Self.berlin)
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        let user = try #require(try await harness.store.user(email: "ada@example.com"))
        browser.sendWithEveryRequest([("X-Forwarded-For", "198.51.100.99")])
        #expect(try await browser.request(harness.url("/echo")).status == .ok)
        try await Self.waitFor("the new address to be written") {
            try await harness.store.activeSessions(userID: user.id, now: Date()).first?.lastIP == .literal("198.51.100.99")
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.store.riskHistory(userID: user.id, since: .distantPast, limit: 100).count == 1, "the sign-in only")
        #expect(try await Self.flags(harness, "ada@example.com").isEmpty)
        // Five seconds later (the per-session interval), to Tokyo: flagged (the default action) and kept.
        try await Task.sleep(for: .milliseconds(5_100))
        browser.sendWithEveryRequest([("X-Forwarded-For", Self.tokyo)])
        #expect(try await browser.request(harness.url("/echo")).status == .ok, "flag only: the session goes on")
        try await Self.waitFor("the jump to be kept") {
            try await harness.store.riskHistory(userID: user.id, since: .distantPast, limit: 100).count == 2
        }
        #expect(Set(try await Self.flags(harness, "ada@example.com").map(\.kind)) == [.networkJump, .impossibleTravel])
    }

    @Test("a network jump with step_up refuses the session until a fresh sign-in")
    func networkJumpStepUp() async throws {
        let clock = Clock()
        let harness = try await Self.start(actions: "network_jump: step_up", clock: clock)
        defer { Task { await harness.stop() } }
        let browser = try Self.browser(harness, from: Self.berlin)
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.signIn(at: harness.url("/echo"), email: "ada@example.com").status == .ok)
        browser.sendWithEveryRequest([("X-Forwarded-For", Self.sydney)])
        _ = try await browser.request(harness.url("/echo"))
        var refused: TestBrowser.Page?
        try await Self.waitFor("the step-up to take effect") {
            let page = try await browser.request(harness.url("/echo"))
            refused = page
            return page.status == .found
        }
        #expect(refused?.location?.contains("reauth=1") == true)
        let done = try await browser.signIn(at: harness.url(try #require(refused?.location)), email: "ada@example.com")
        #expect(done.status == .ok)
        #expect(try await browser.request(harness.url("/echo")).status == .ok)
    }
}

extension SuspiciousSessionTests {
    /// Two instances on one PostgreSQL, sessions cached for a minute: only the broadcast can
    /// explain the other instance acting at once.
    @Test("on PostgreSQL, a deny or a step-up on one instance reaches the other in under a second", arguments: ["deny", "step_up"])
    func otherInstance(action: String) async throws {
        try #require(TestPostgres.isInstalled, "PostgreSQL is not installed (scripts/setup-debian installs it)")
        let cluster = try await TestPostgres.start()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let clock = Clock()
        let one = try await Self.start(actions: "network_jump: \(action)", clock: clock, postgresURL: url, sessions: "  max_staleness: 60s\n")
        defer { Task { await one.stop() } }
        let two = try await Self.start(actions: "network_jump: \(action)", clock: clock, postgresURL: url, sessions: "  max_staleness: 60s\n")
        defer { Task { await two.stop() } }
        let browser = try Self.browser(one, from: Self.berlin)
        defer { Task { await browser.shutdown() } }
        #expect(try await browser.signIn(at: one.url("/echo"), email: "ada@example.com").status == .ok)
        let onTwo = try two.browser()
        defer { Task { await onTwo.shutdown() } }
        onTwo.sendWithEveryRequest([("X-Forwarded-For", Self.berlin)])
        let cookie: String = try #require(browser.cookie("__Host-portcullis", for: one.url("/")))
        onTwo.setCookie("__Host-portcullis", cookie, for: two.url("/"))
        #expect(try await onTwo.request(two.url("/echo")).status == .ok, "instance two has the session cached now")

        // The cookie, replayed from Tokyo through instance one.
        browser.sendWithEveryRequest([("X-Forwarded-For", Self.tokyo)])
        _ = try await browser.request(one.url("/echo"))
        let start = ContinuousClock.now
        var refused: TestBrowser.Page?
        while ContinuousClock.now - start < .seconds(5), refused == nil {
            let page = try await onTwo.request(two.url("/echo"))
            if page.status == .found { refused = page } else { try await Task.sleep(for: .milliseconds(10)) }
        }
        let elapsed = ContinuousClock.now - start
        let page = try #require(refused, "instance two never refused the session")
        #expect(elapsed < .seconds(1), "\(elapsed)")
        #expect(page.location?.hasPrefix("/_portcullis/login") == true)
        #expect((page.location?.contains("reauth=1") == true) == (action == "step_up"), "\(page.location ?? "")")
    }
}

extension Data {
    /// Hex digits to bytes; empty for anything else (tests only).
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { self.init(); return }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
