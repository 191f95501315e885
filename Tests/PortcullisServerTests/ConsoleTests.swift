import Foundation
import NIOHTTP1
import PortcullisCore
import PortcullisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
/// The admin console: how it is served (in-process gateway), and the whole console driven by a
/// real headless Chromium against the real `portcullis dev` binary.
@Suite("Admin console")
struct ConsoleTests {
    @Test("signed-out visitors go to sign in; the page, script and styles come under a strict CSP with nothing from elsewhere")
    func served() async throws {
        let harness = try await SSOHarness.start()
        defer { Task { await harness.stop() } }
        let browser = try harness.browser()
        defer { Task { await browser.shutdown() } }

        let signedOut = try await browser.request(harness.url("/_portcullis/console/"))
        #expect(signedOut.status == .found)
        #expect(signedOut.location == "/_portcullis/login?rd=%2F_portcullis%2Fconsole%2F")
        let script = try await browser.request(harness.url("/_portcullis/console/app.js"))
        #expect(script.status == .ok, "the script holds no data; it may load before sign-in")

        // Sign in from the console: SSO brings the browser back to it.
        let page = try await browser.signIn(at: harness.url("/_portcullis/console/"), email: "ada@example.com")
        #expect(page.status == .ok, "\(page.url) \(page.body.prefix(300))")
        #expect(page.url == harness.url("/_portcullis/console/"))
        let policy = page.headers.first(name: "content-security-policy") ?? ""
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"] {
            #expect(policy.contains(directive), "\(policy)")
        }
        #expect(!policy.contains("unsafe"), "\(policy)")
        #expect(page.headers.first(name: "x-content-type-options") == "nosniff")
        #expect(page.body.contains(#"<script src="/_portcullis/console/app.js" defer></script>"#))
        #expect(page.body.contains(#"<main id="main""#) && page.body.contains(#"<nav id="nav" aria-label="Console">"#))

        // Offline and under the CSP: no inline code or styles, nothing fetched from another origin.
        let styles = try await browser.request(harness.url("/_portcullis/console/app.css"))
        #expect(script.headers.first(name: "content-type") == "text/javascript; charset=utf-8")
        #expect(styles.headers.first(name: "content-type") == "text/css; charset=utf-8")
        for asset in [page.body, script.body, styles.body] {
            #expect(!asset.contains("http://") && !asset.contains("https://"), "an external reference")
            #expect(!asset.contains("@import") && !asset.contains(" style=\"") && !asset.contains("onclick=\""))
        }
        #expect(!script.body.contains(".innerHTML") && !script.body.contains("eval("), "values go into the page as text only")
        // Role names and descriptions come from GET /roles (the permission matrix), not from a
        // copy in the script.
        let names = PrimaryRole.allCases.map(\.rawValue) + SecondaryRole.allCases.map(\.rawValue)
        let labels = PrimaryRole.allCases.map(\.displayName) + SecondaryRole.allCases.map(\.displayName)
        for word in names + labels where !["admin", "member", "Admin", "Member"].contains(word) {
            let pattern = try NSRegularExpression(pattern: "\\b" + NSRegularExpression.escapedPattern(for: word) + "\\b")
            let whole = NSRange(script.body.startIndex..., in: script.body)
            #expect(pattern.firstMatch(in: script.body, range: whole) == nil, "the script names the role \(word)")
        }
        let roles = try await browser.request(harness.url("/_portcullis/api/v1/roles"), accept: "application/json")
        #expect(roles.status == .ok)
        for role in SecondaryRole.allCases {
            #expect(roles.body.contains(#""role":"\#(role.rawValue)""#))
        }
        // Every change the script makes carries the CSRF token.
        #expect(script.body.contains("headers['X-CSRF-Token'] = state.me.csrf_token"))
    }

    static var browserIsInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && (try? Subprocess.run(["python3", "-c", "import selenium"]).status) == 0
    }

    /// Ports `portcullis dev` always takes.
    static let devPorts = [8443, 9443, 8080, 9090]

    @Test("a headless Chromium signs in, finds, edits, signs out, switches a permission, edits the greenlist; a member sees only their sessions", .timeLimit(.minutes(5)))
    func headlessChromium() async throws {
        try #require(Self.browserIsInstalled, "apt-get install chromium chromium-driver; pip install selenium (scripts/setup-debian does)")
        try #require(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the binary first: swift build --build-tests")
        for port in Self.devPorts {
            let busy = await SSOHarness.isListening(port)
            try #require(!busy, "port \(port) is taken: is another portcullis dev running?")
        }

        let root = FixturePaths.repositoryRoot
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-dev-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        // SIGTERM is a graceful shutdown; after ten seconds, SIGKILL. Stopped however the test ends.
        try await ChildProcess.withRunning([DurabilityTests.binary, "dev"], directory: root, output: log, grace: .seconds(10)) { dev in
            try await SSOHarness.waitForPort(8443, attempts: 3_000)
            try await SSOHarness.waitForPort(9443, attempts: 3_000)
            let banner = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(banner.contains("--config conf/portcullis-dev.yaml"), "the banner names the CLI's --config: \(banner.prefix(3_000))")
            #expect(FileManager.default.fileExists(atPath: root + "/conf/portcullis-dev.yaml"))

            // The README's screenshots: PORTCULLIS_UPDATE_SCREENSHOTS=1 writes them into the repository.
            let update = ProcessInfo.processInfo.environment["PORTCULLIS_UPDATE_SCREENSHOTS"] == "1"
            let screenshots = update
                ? root + "/Tests/Interop/screenshots"
                : FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-screenshots-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
            defer { if !update { try? FileManager.default.removeItem(atPath: screenshots) } }
            let result = try await ChildProcess.run(
                ["python3", root + "/Tests/Interop/console_browser_check.py", "https://localhost:8443", screenshots], timeout: .seconds(240)
            )
            let devLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(result.status == 0, "\(result.output)\n--- portcullis dev ---\n\(devLog.suffix(4_000))")
            for step in [
                "development mode sends no HSTS for localhost",
                "signed in through the development IdP",
                "the development users are teammates from the start",
                "found teammates by search, by department and by role",
                "each role in the editor says in one line what it grants",
                "changed a teammate's roles and saw the effective role change",
                "saw why a change is refused",
                "a plain member's role is explained as the default",
                "signed a teammate out of all sessions, saw the result in view; their next request went to login",
                "saw a flagged session with its reasons in words and dismissed its flags",
                "turned a default member permission off and saw the next request refused",
                "edited the greenlist after the dry-run warning",
                "tested addresses against the IP policy",
                "a member sees only their own sessions and signed out their other one",
                "mapped a group to a role and saw it in a teammate's effective role",
                "created and revoked an API token; the audit log verifies and filters by actor",
                "at 400 px the navigation collapses and nothing scrolls sideways",
            ] {
                #expect(result.output.contains("ok: " + step), "missing step: \(step)")
            }
            for shot in ["teammates.png", "teammates-narrow.png", "teammate.png", "sessions-dialog.png", "sessions-signed-out.png", "flagged-sessions.png"] {
                let size = (try? FileManager.default.attributesOfItem(atPath: screenshots + "/" + shot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "\(shot) was not taken")
            }

            // The command line sees dev's store through the configuration dev wrote for it.
            let grace = try await CommandLineTests.portcullis(
                ["sessions", "list", "grace@example.com", "--json", "--config", "conf/portcullis-dev.yaml"], in: root
            )
            #expect(grace.status == 0, "\(grace.error)")
            #expect(grace.output.contains(#""ip":"127.0.0.1""#), "\(grace.output)")
            #expect(grace.output.contains(#""location":"loopback (this machine)""#), "\(grace.output)")
            let edith = try await CommandLineTests.portcullis(["sessions", "list", "edith@example.com", "--config", "conf/portcullis-dev.yaml"], in: root)
            #expect(edith.status == 0, "a seeded user who never signed in: \(edith.error)")
            #expect(edith.output.contains("edith@example.com has no active sessions"))
            #expect(dev.isRunning)
        }
        // It let go of its ports (a second `portcullis dev` could start) and removed its files.
        for port in Self.devPorts {
            let stillListening = await SSOHarness.isListening(port)
            #expect(!stillListening, "port \(port) still taken after portcullis dev stopped")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/conf/portcullis-dev.yaml"), "dev left its configuration behind")
    }
}
}
