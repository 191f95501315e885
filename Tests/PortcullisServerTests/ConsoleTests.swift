import Foundation
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

        let process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = ["dev"]
        process.currentDirectoryURL = URL(fileURLWithPath: FixturePaths.repositoryRoot)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-dev-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer {
            try? FileManager.default.removeItem(at: log)
        }
        do {
            try await SSOHarness.waitForPort(8443, attempts: 3_000)
            try await SSOHarness.waitForPort(9443, attempts: 3_000)

            // The README's screenshots: PORTCULLIS_UPDATE_SCREENSHOTS=1 writes them into the repository.
            let update = ProcessInfo.processInfo.environment["PORTCULLIS_UPDATE_SCREENSHOTS"] == "1"
            let screenshots = update
                ? FixturePaths.repositoryRoot + "/Tests/Interop/screenshots"
                : FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-screenshots-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
            let arguments = ["python3", FixturePaths.repositoryRoot + "/Tests/Interop/console_browser_check.py", "https://localhost:8443", screenshots]
            let result = try await Task.detached { try Subprocess.run(arguments) }.value
            let devLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(result.status == 0, "\(result.output)\n--- portcullis dev ---\n\(devLog.suffix(4_000))")
            for step in [
                "signed in through the development IdP",
                "found teammates by search, by department and by role",
                "changed a teammate's roles and saw the effective role change",
                "saw why a change is refused",
                "signed a teammate out of all sessions; their next request went to login",
                "turned a default member permission off and saw the next request refused",
                "edited the greenlist after the dry-run warning",
                "tested addresses against the IP policy",
                "a member sees only their own sessions and signed out their other one",
                "mapped a group to a role and saw it in a teammate's effective role",
                "created and revoked an API token; the audit log verifies and filters by actor",
            ] {
                #expect(result.output.contains("ok: " + step), "missing step: \(step)")
            }
            for shot in ["teammates.png", "sessions-dialog.png"] {
                let size = (try? FileManager.default.attributesOfItem(atPath: screenshots + "/" + shot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "\(shot) was not taken")
            }
            if !update { try? FileManager.default.removeItem(atPath: screenshots) }
        } catch {
            await Self.stop(process)
            throw error
        }
        await Self.stop(process)
        // It let go of its ports: a second `portcullis dev` could start.
        for port in Self.devPorts {
            let stillListening = await SSOHarness.isListening(port)
            #expect(!stillListening, "port \(port) still taken after portcullis dev stopped")
        }
    }

    /// SIGTERM (graceful), then SIGKILL after ten seconds.
    static func stop(_ process: Process) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<1_000 where process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<500 where process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }
}
}
